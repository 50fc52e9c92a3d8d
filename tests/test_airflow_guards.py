"""Production guards: time limits, the heavy-work pool, the engineers' failure mail, the marts deadline.

The DAG checks parse the real DAG files in a subprocess (as Airflow's DAG processor would); the mail
and deadline checks run against a real Airflow metadata database (SQLite, migrated once per module)
and a real SMTP sink (aiosmtpd on 127.0.0.1).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from tests.conftest import REPO, airflow_home_with_db

DAGS = REPO / "dags"

PARSE_PROBE = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization

bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
out = {}
for dag_id, dag in bag.dags.items():
    DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))  # the scheduler's view
    out[dag_id] = {
        "dagrun_timeout": dag.dagrun_timeout.total_seconds() if dag.dagrun_timeout else None,
        "dag_failure_callbacks": len(dag.on_failure_callback or []) if isinstance(dag.on_failure_callback, list)
                                 else int(dag.on_failure_callback is not None),
        "deadlines": [type(d.reference).__name__ + ":" + str(d.interval.total_seconds())
                      for d in (dag.deadline or [])],
        "tasks": {t.task_id: {
            "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
            "pool": t.pool,
            "failure_callbacks": len(t.on_failure_callback or []) if isinstance(t.on_failure_callback, list)
                                 else int(t.on_failure_callback is not None),
            "type": type(t).__name__,
        } for t in dag.tasks},
    }
print("RESULT" + json.dumps(out))
"""


def _airflow_env(home: Path, dags: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an Airflow process on a SQLite metadata DB under ``home``; URLs nothing connects to."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SUPERVISION_"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
        "DO_NOT_TRACK": "1",
        "SUPERVISION_HOME": str(REPO),
        "SUPERVISION_VAR_DIR": str(home / "var"),
        "SUPERVISION_PII_KEY": "k" * 32,
        "SUPERVISION_WAREHOUSE_URL": "postgresql://probe:probe@127.0.0.1:9/warehouse",
        "SUPERVISION_TRAINING_DB_URL": "postgresql://probe:probe@127.0.0.1:9/training_platform",
        "SUPERVISION_AIRFLOW_DB_URL": "postgresql://probe:probe@127.0.0.1:9/airflow",
        "PYTHONPATH": str(REPO / "plugins") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    })
    env.update(extra or {})
    return env


def _run(args: list[str], env: dict[str, str], timeout: int = 300) -> str:
    res = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{args[0]} {args[1]} failed:\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def dag_guards(tmp_path_factory) -> dict:
    from supervision.pipeline import ensure_manifest

    ensure_manifest()
    home = tmp_path_factory.mktemp("guards_parse")
    out = _run([sys.executable, "-c", PARSE_PROBE, str(DAGS)], _airflow_env(home, DAGS))
    return json.loads([ln for ln in out.splitlines() if ln.startswith("RESULT")][-1][len("RESULT"):])


def test_every_task_has_a_time_limit_and_every_dag_a_run_limit(dag_guards):
    from supervision import dag_support as ds

    assert set(dag_guards) == {"ingest_training_platform", "ingest_video_logs", "ingest_assessments",
                               "supervision_marts", "supervision_monthly_report"}
    for dag_id, d in dag_guards.items():
        assert d["dagrun_timeout"], f"{dag_id} has no dagrun_timeout"
        assert d["dag_failure_callbacks"] >= 1, f"{dag_id} mails nobody when its run fails"
        longest = max(t["timeout"] for t in d["tasks"].values())
        assert d["dagrun_timeout"] > longest, f"{dag_id}: a task may outlive its run"
        for task_id, t in d["tasks"].items():
            assert t["timeout"], f"{dag_id}.{task_id} has no execution_timeout"
            assert t["failure_callbacks"] >= 1, f"{dag_id}.{task_id} has no failure callback"
    # the measured worst case (a city-scale day's dbt build, 169 s) stays far inside the limits
    marts = dag_guards["supervision_marts"]["tasks"]
    assert marts["dbt_models"]["timeout"] >= 20 * 169
    assert ds.MARTS_DAGRUN_TIMEOUT.total_seconds() >= 20 * 290


def test_heavy_warehouse_work_takes_the_pool_and_the_waiting_does_not(dag_guards):
    from supervision.dag_support import HEAVY_POOL

    video = dag_guards["ingest_video_logs"]["tasks"]
    marts = dag_guards["supervision_marts"]["tasks"]
    pooled = {f"{d}.{t}" for d, dd in dag_guards.items() for t, v in dd["tasks"].items() if v["pool"] == HEAVY_POOL}
    assert {"ingest_video_logs.load_batch", "ingest_video_logs.attach_days", "supervision_marts.quality_gates",
            "supervision_marts.record_flags", "supervision_marts.alert_upkeep",
            "supervision_marts.dbt_models", "supervision_marts.dbt_alert_marts"} <= pooled
    assert video["pending_batches"]["pool"] != HEAVY_POOL
    sensors = {t: v for t, v in marts.items() if t.startswith("wait_for_")}
    assert len(sensors) == 3
    assert not [t for t, v in sensors.items() if v["pool"] == HEAVY_POOL]


def test_the_marts_dag_has_its_deadline_alert(dag_guards):
    assert dag_guards["supervision_marts"]["deadlines"] == [f"MartsDayDeadline:{8 * 3600.0}"]
    assert all(not d["deadlines"] for k, d in dag_guards.items() if k != "supervision_marts")


def test_the_deadline_is_the_deadline_hour_of_the_day_the_marts_run_was_triggered_on(monkeypatch):
    from datetime import datetime, timedelta, timezone

    from supervision.guards import marts_day_start

    monkeypatch.setenv("SUPERVISION_MARTS_DEADLINE_HOUR", "7")
    shanghai = timezone(timedelta(hours=8))
    night = datetime(2024, 3, 5, 1, 30, tzinfo=shanghai)   # the night's run of day 2024-03-04
    assert marts_day_start(night, now=night) == datetime(2024, 3, 5, 0, 0, tzinfo=shanghai)
    late = datetime(2024, 3, 5, 6, 59, tzinfo=shanghai)
    assert marts_day_start(late, now=late) is not None
    rerun = datetime(2024, 3, 5, 7, 0, tzinfo=shanghai)
    assert marts_day_start(rerun, now=rerun) is None           # a daytime rerun
    assert marts_day_start(night) is None                      # a past day's run created now (a backfill)


# --- against a metadata database and an SMTP sink ----------------------------------------------
@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory, migrated_airflow_db) -> Path:
    """A migrated SQLite metadata database (shared by this module's tests: each uses its own DAG ids)."""
    return airflow_home_with_db(tmp_path_factory.mktemp("guards_airflow"), migrated_airflow_db)


DEADLINE_DAG = '''
import sys

import pendulum
from airflow.sdk import dag, task

from supervision.dag_support import marts_dag_guards, without_deadline_in_dag_test


@dag(dag_id="guards_deadline", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
     **marts_dag_guards())
def guards_deadline():
    @task
    def step():
        return 1

    step()


d = guards_deadline()
if sys.argv[1:] == ["wrapped"]:
    without_deadline_in_dag_test(d)
if __name__ == "__main__":
    assert d.deadline, "the DAG has its Deadline Alert"
    print("RUN STATE", d.test().state)
'''


@pytest.mark.slow  # a real DAG run through DAG.test() (10-15 s): not in `make test-fast`
def test_dag_test_runs_a_dag_with_the_deadline_alert(airflow_home, tmp_path):
    """``supervision run`` runs the marts DAG with ``DAG.test()``, which in Airflow 3.3 cannot finish a
    run of a DAG with a Deadline Alert; ``without_deadline_in_dag_test`` makes it run without it."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "guards_deadline.py").write_text(DEADLINE_DAG)
    env = _airflow_env(airflow_home, dags)
    bare = subprocess.run([sys.executable, str(dags / "guards_deadline.py")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert bare.returncode != 0 and "FROM deadline_alert" in bare.stderr, "Airflow's DAG.test() fixed?"
    out = _run([sys.executable, str(dags / "guards_deadline.py"), "wrapped"], env)
    assert "RUN STATE success" in out


FAILING_DAG = '''
from datetime import timedelta
import time

import pendulum
from airflow.sdk import dag, task

from supervision.dag_support import DEFAULT_ARGS


@dag(dag_id="guards_failing", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
     default_args={**DEFAULT_ARGS, "retries": 0})
def guards_failing():
    @task
    def broken_copy():
        raise RuntimeError("COPY failed: connection reset")

    @task(execution_timeout=timedelta(seconds=3))
    def hung_copy():
        time.sleep(120)

    @task
    def fine():
        return 1

    broken_copy()
    hung_copy()
    fine()


d = guards_failing()
if __name__ == "__main__":
    d.test()
'''


@pytest.mark.slow  # a real DAG run through DAG.test() (10-15 s): not in `make test-fast`
def test_a_failing_task_mails_the_data_engineers(airflow_home, smtp_sink, tmp_path):
    """A task that fails, and one that hangs past its execution_timeout, each send one mail to the
    engineers' addresses (the notifier, not the retries: retries are 0 here)."""
    handler, port = smtp_sink
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "guards_failing.py").write_text(FAILING_DAG)
    env = _airflow_env(airflow_home, dags, {
        "SUPERVISION_SMTP_PORT": str(port), "SUPERVISION_ENGINEER_EMAILS": "de1@example.org, de2@example.org"})
    res = subprocess.run([sys.executable, str(dags / "guards_failing.py")], env=env, capture_output=True,
                         text=True, timeout=300)
    log = res.stdout + res.stderr
    mails = [message_from_bytes(m.content, policy=default_policy) for m in handler.messages]
    subjects = sorted(m["Subject"] for m in mails)
    assert len(mails) == 2, f"{subjects}\n{log[-4000:]}"
    assert all(sorted(m.rcpt_tos) == ["de1@example.org", "de2@example.org"] for m in handler.messages)
    broken = next(m for m in mails if "guards_failing.broken_copy" in m["Subject"])
    assert "FAILED" in broken["Subject"] and "COPY failed: connection reset" in broken.get_content()
    hung = next(m for m in mails if "guards_failing.hung_copy" in m["Subject"])
    assert "Timeout" in hung.get_content()


DEADLINE_PROBE = r"""
import asyncio, json, sys
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from airflow._shared.module_loading import import_string
from airflow.dag_processing.bundles.manager import DagBundlesManager
from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
from airflow.models.deadline import Deadline
from airflow.models.pool import Pool
from airflow.models.serialized_dag import SerializedDagModel
from airflow.utils.session import create_session
from airflow.utils.state import DagRunState
from airflow.utils.types import DagRunTriggeredByType, DagRunType

from supervision import guards
from supervision.guards import WAREHOUSE_HEAVY_POOL, ensure_pool

# the pool: created, then resized, idempotently
ensure_pool(); ensure_pool()
pool_slots = Pool.get_pool(WAREHOUSE_HEAVY_POOL).slots

manager = DagBundlesManager()
manager.sync_bundles_to_db()
for bundle in manager.get_all_dag_bundles():
    bundle.initialize()
    bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
    assert not bag.import_errors, bag.import_errors
    sync_bag_to_db(bag, bundle.name, bundle.version)

sh = timezone(timedelta(hours=8))
out = {"pool_slots": pool_slots}
with create_session() as session:
    dag = SerializedDagModel.get_dag("supervision_marts", session=session)
    runs = {}
    real_now = guards._utcnow
    for label, run_after, now in (
            ("night", datetime(2024, 3, 5, 1, 30, tzinfo=sh), datetime(2024, 3, 5, 1, 31, tzinfo=sh)),
            ("daytime", datetime(2024, 3, 5, 9, 30, tzinfo=sh), datetime(2024, 3, 5, 9, 31, tzinfo=sh)),
            ("backfill", datetime(2024, 3, 5, 0, 0, tzinfo=sh), None)):  # a past day, created today
        guards._utcnow = (lambda now=now: now) if now else real_now
        dr = dag.create_dagrun(run_id=f"asset_triggered__{label}", run_after=run_after,
                               run_type=DagRunType.ASSET_TRIGGERED, triggered_by=DagRunTriggeredByType.ASSET,
                               state=DagRunState.QUEUED, session=session)
        session.flush()
        runs[label] = [d for d in session.scalars(select(Deadline).where(Deadline.dagrun_id == dr.id))]
    out["night"] = [d.deadline_time.astimezone(sh).isoformat() for d in runs["night"]]
    out["daytime"] = len(runs["daytime"])
    out["backfill"] = len(runs["backfill"])
    # the scheduler's step once the deadline has passed with the run not done
    deadline = runs["night"][0]
    deadline.handle_miss(session)
    session.flush()
    data = deadline.callback.data
    out["callback"] = data["path"]
    session.commit()
asyncio.run(import_string(data["path"])(**data["kwargs"]))
print("RESULT" + json.dumps(out))
"""


def test_a_late_marts_run_mails_the_engineers_at_the_deadline_hour(airflow_home, smtp_sink, tmp_path):
    """The marts DAG as the scheduler sees it: a run triggered in the night of 2024-03-05 (for day
    2024-03-04) gets a deadline at 08:00 local; a daytime run (a rerun) and a backfill's run of a past
    day get none. When the deadline passes, the callback queued for the triggerer mails the engineers."""
    from supervision.pipeline import ensure_manifest

    ensure_manifest()
    handler, port = smtp_sink
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "supervision_marts.py").symlink_to(DAGS / "supervision_marts.py")
    env = _airflow_env(airflow_home, dags, {
        "SUPERVISION_SMTP_PORT": str(port), "SUPERVISION_ENGINEER_EMAILS": "de@example.org",
        "SUPERVISION_WAREHOUSE_HEAVY_SLOTS": "3"})
    out = _run([sys.executable, "-c", DEADLINE_PROBE], env)
    result = json.loads([ln for ln in out.splitlines() if ln.startswith("RESULT")][-1][len("RESULT"):])
    assert result["pool_slots"] == 3
    assert result["night"] == ["2024-03-05T08:00:00+08:00"]
    assert result["daytime"] == 0 and result["backfill"] == 0
    assert result["callback"] == "supervision.guards.marts_deadline_missed"
    assert len(handler.messages) == 1 and handler.messages[0].rcpt_tos == ["de@example.org"]
    mail = message_from_bytes(handler.messages[0].content, policy=default_policy)
    assert "LATE supervision_marts" in mail["Subject"] and "08:00" in mail["Subject"]
    assert "asset_triggered__night" in mail.get_content()
