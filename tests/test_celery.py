"""Scale-out that starts: the pipeline through the CeleryExecutor and two real Celery workers.

Redis (Debian's ``redis-server``; `make test` installs it) on 127.0.0.1 as the broker, results in
the embedded PostgreSQL, the api-server, scheduler, dag-processor, triggerer and two
``airflow celery worker`` processes, each with its own working folder and Celery hostname
(tests/airflow_services.py). A data engineer's ``airflow backfill create`` of three business days
(the simulated world's first three, 2024-01-01 to 03, at scale 0.01: sources relative to today would
hold every day since then) must leave the same alerts, marts and audit counts as ``supervision run``
(in one process) over the same days, and tasks ran on both workers. This is also the backfill test
of the Airflow-for-real issue (three days; the LocalExecutor path is tests/test_scheduler.py's
night). The days keep ``supervision run``'s order: D's marts wait for D's ingestion
(``wait_for_ingest_*``), D+1's ingestion for D's marts (``wait_for_previous_marts``), all sensors in
reschedule mode (no worker slot held while they wait).
"""
from __future__ import annotations

import subprocess
import time
from datetime import date, timedelta

import pytest

from tests.airflow_services import DAG_IDS, AirflowServices, redis_available
from tests.test_end_to_end import ANOMALY_RATE, CLI, SCALE, SEED, _cli, _env, _warehouse_url, fingerprint
from tests.test_scheduler import audit_counts, logical_date_of

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not redis_available(), reason="redis-server not installed (apt-get install "
                                                                "redis-server; `make test` does it as root)")]

FIRST, DAYS = date(2024, 1, 1), 3


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    var = tmp_path_factory.mktemp("celery_gen")
    env = _env(var)
    _cli(env, "warehouse", "start")
    try:
        _cli(env, "generate", "--start", str(FIRST), "--end", str(FIRST + timedelta(days=DAYS - 1)),
             "--scale", SCALE, "--seed", SEED, "--anomaly-rate", ANOMALY_RATE)
        yield {"SUPERVISION_LANDING_URL": str(var / "landing"),
               "SUPERVISION_TRAINING_DB_URL": _warehouse_url(env).rsplit("/", 1)[0] + "/training_platform"}
    finally:
        subprocess.run([*CLI, "warehouse", "stop"], env=env, capture_output=True)


def test_two_days_through_two_celery_workers_equal_supervision_run(sources, tmp_path_factory):
    first, last = FIRST, FIRST + timedelta(days=DAYS - 1)
    ref_env = _env(tmp_path_factory.mktemp("celery_ref"), **sources)
    t = time.monotonic()
    try:
        _cli(ref_env, "run", "--start", str(first), "--end", str(last))
        url = _warehouse_url(ref_env)
        reference = {**fingerprint(url), "audit": str(audit_counts(url))}
    finally:
        subprocess.run([*CLI, "warehouse", "stop"], env=ref_env, capture_output=True)
    ref_seconds = time.monotonic() - t

    t = time.monotonic()
    with AirflowServices(tmp_path_factory.mktemp("celery"), sources, workers=2) as svc:
        ready = time.monotonic() - t
        t = time.monotonic()
        svc.backfill(str(first), str(last))
        expected = {(d, logical_date_of(first + timedelta(days=i))) for d in DAG_IDS for i in range(DAYS)}
        runs = svc.wait_runs(expected)
        print(f"celery: services ready in {ready:.0f}s, {first}..{last} in {time.monotonic() - t:.0f}s; "
              f"supervision run: {ref_seconds:.0f}s")
        assert "scheduled" not in {r[2] for r in runs}, runs  # only the backfill ran
        by_host = dict(svc.query("select hostname, count(*) from task_instance where state = 'success' "
                                 "group by 1"))
        print(f"task instances per host: {by_host}")
        workers = {h.split("@")[0] for h in by_host}
        assert {"worker1", "worker2"} <= workers, by_host
        # D+1's ingestion waited for D's marts: each ingestion run of day 2 and 3 started after the
        # previous day's marts run had ended
        order = svc.query("select dr.dag_id, dr.logical_date, min(ti.start_date), max(ti.end_date) "
                          "from dag_run dr join task_instance ti using (dag_id, run_id) group by 1, 2")
        marts_end = {ld: end for d, ld, _, end in order if d == "supervision_marts"}
        for dag_id, logical, started, _ in order:
            previous = logical - timedelta(days=1)
            if dag_id != "supervision_marts" and previous in marts_end:
                assert started >= marts_end[previous], f"{dag_id} {logical} started before the marts of {previous}"
        url = _warehouse_url(svc.env)
        got = {**fingerprint(url), "audit": str(audit_counts(url))}
    assert got == reference
