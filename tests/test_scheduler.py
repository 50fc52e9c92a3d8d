"""The pipeline through Airflow's own machinery, as a data engineer deploys it (no `supervision run`):

the scheduler path (`supervision serve`: api-server, scheduler, dag-processor, triggerer with the
LocalExecutor, on 127.0.0.1) on a fresh warehouse over the three simulated days the slow tests
share (tests/simulated_run.py), deployed to go live on their last day
(``SUPERVISION_SCHEDULE_START``) with catch-up on (``SUPERVISION_SCHEDULE_CATCHUP``): the four DAGs
unpaused with the Airflow CLI run that day by themselves as scheduled runs and all four succeed.
As on a go-live, that first night loads everything the sources hold up to its day, so its raw and
quarantine counts equal the reference run's after the three days, and the alert table is filled.

The simulated days are in 2024 and the scheduler's clock is today's: the catch-up makes the go-live
night one of them (with catch-up off the scheduler runs yesterday, a day the sources do not hold,
and the video gate rightly fails it: no events). `airflow backfill create` over the three days
equal to `supervision run` is tests/test_celery.py (the same scheduler, with the CeleryExecutor and
two workers).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from tests.airflow_services import free_port
from tests.conftest import source_env
from tests.simulated_run import (
    CLI,
    LAST,
    SENSOR_POKE_SECONDS,
    env_for,
    logical_date_of,
    raw_counts,
    stop_warehouse,
    warehouse_url,
)

pytestmark = pytest.mark.slow

DAG_IDS = ("ingest_training_platform", "ingest_video_logs", "ingest_assessments", "supervision_marts")
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
RUN_TIMEOUT = 1800


class Services:
    """`supervision serve` on free ports, with its own var folder (warehouse and Airflow home)."""

    def __init__(self, var: Path, sources: dict[str, str], extra_env: dict[str, str]):
        self.airflow_port = free_port()
        # the task runners reach the api-server's execution API (Airflow's default: port 8080)
        self.env = env_for(var, **sources, **extra_env,
                           AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{self.airflow_port}/execution/")
        self.log = var / "serve.log"
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(free_port()), "--airflow-port", str(self.airflow_port)],
            env=self.env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        self.metadata_url: str | None = None
        self.airflow_env: dict[str, str] = {}

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"supervision serve exited:\n{self.tail()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.airflow_port}/api/v2/monitor/health",
                                            timeout=5) as r:
                    health = json.load(r)
                if self.metadata_url is None:
                    self.metadata_url = warehouse_url(self.env).rsplit("/", 1)[0] + "/airflow"
                with psycopg.connect(self.metadata_url) as c:
                    parsed = {r[0] for r in c.execute("select dag_id from serialized_dag")}
                if health["scheduler"]["status"] == "healthy" and set(DAG_IDS) <= parsed:
                    # the environment the services run in (Airflow's variables from the settings)
                    out = subprocess.run([sys.executable, "-c", "import json; from supervision.airflow_env "
                                          "import airflow_environ; print(json.dumps(airflow_environ()))"],
                                         env=self.env, capture_output=True, text=True, check=True).stdout
                    self.airflow_env = {**self.env, **json.loads(out.strip().splitlines()[-1])}
                    return
            except (OSError, KeyError, psycopg.Error):
                pass
            time.sleep(3)
        raise AssertionError(f"services not ready in {timeout}s:\n{self.tail()}")

    def airflow(self, *args: str) -> str:
        res = subprocess.run([AIRFLOW, *args], env=self.airflow_env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, f"airflow {' '.join(args)}:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
        return res.stdout

    def runs(self) -> list[tuple]:
        with psycopg.connect(self.metadata_url) as c:
            return c.execute("select dag_id, logical_date, run_type, state::text from dag_run "
                             "order by logical_date, dag_id").fetchall()

    def wait_runs(self, expected: set[tuple[str, datetime]], timeout: float = RUN_TIMEOUT) -> list[tuple]:
        """Wait until every (dag_id, logical date) has a finished run; fail on the first failed one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.runs()
            mine = [r for r in runs if (r[0], r[1]) in expected]
            failed = [r for r in mine if r[3] == "failed"]
            assert not failed, f"failed runs {failed}:\n{self.failed_tasks()}\n{self.tail()}"
            if len(mine) == len(expected) and all(r[3] == "success" for r in mine):
                return runs
            time.sleep(5)
        raise AssertionError(f"runs not done in {timeout}s: {self.runs()}\n{self.tail()}")

    def failed_tasks(self) -> list[tuple]:
        with psycopg.connect(self.metadata_url) as c:
            return c.execute("select dag_id, run_id, task_id, state::text from task_instance "
                             "where state in ('failed', 'upstream_failed')").fetchall()

    def tail(self, n: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)  # serve stops its children by process group
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        stop_warehouse(self.env)


@pytest.fixture(scope="module")
def services_factory(tmp_path_factory):
    started: list[Services] = []

    def start(name: str, sources: dict[str, str], extra_env: dict[str, str]) -> Services:
        svc = Services(tmp_path_factory.mktemp(name), sources, extra_env)
        started.append(svc)
        t = time.monotonic()
        svc.wait_ready()
        print(f"{name}: services ready in {time.monotonic() - t:.0f}s")
        return svc

    yield start
    for svc in started:
        svc.stop()


def test_scheduler_runs_the_go_live_night_on_a_fresh_warehouse(simulated_sources, reference_run, services_factory):
    svc = services_factory("sched_night", source_env(simulated_sources),
                           {"SUPERVISION_SCHEDULE_START": str(LAST), "SUPERVISION_SCHEDULE_CATCHUP": "true",
                            "SUPERVISION_SENSOR_POKE_SECONDS": SENSOR_POKE_SECONDS})
    night = logical_date_of(LAST)
    t = time.monotonic()
    for dag_id in DAG_IDS:  # as a data engineer would: the DAGs are paused at creation
        svc.airflow("dags", "unpause", dag_id)
    runs = svc.wait_runs({(d, night) for d in DAG_IDS})
    for dag_id in DAG_IDS:  # the catch-up goes on with the days after, which the sources do not hold
        svc.airflow("dags", "pause", dag_id)
    print(f"the go-live night ({LAST}) through the scheduler: {time.monotonic() - t:.0f}s")
    first = [r for r in runs if r[1] == min(r[1] for r in runs)]
    assert {(r[0], r[1], r[2]) for r in first} == {(d, night, "scheduled") for d in DAG_IDS}, runs
    with psycopg.connect(warehouse_url(svc.env)) as c:
        assert c.execute("select count(*) from marts.supervision_alerts").fetchone()[0] > 0
        gates = c.execute("select distinct run_id from ops.gx_validation_results where kind = 'gate'").fetchall()
        loaded = raw_counts(c)
    assert gates, "no gate results stored"
    assert loaded == {k: reference_run["fp"][k] for k in loaded}
