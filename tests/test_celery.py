"""Scale-out that starts: the pipeline through the CeleryExecutor and two real Celery workers.

Redis (Debian's ``redis-server``; `make test` installs it) on 127.0.0.1 as the broker, results in
the embedded PostgreSQL, the api-server, scheduler, dag-processor, triggerer and two
``airflow celery worker`` processes, each with its own working folder and Celery hostname
(tests/airflow_services.py). A data engineer's ``airflow backfill create`` of the three simulated
days the slow tests share (tests/simulated_run.py) must leave the same alerts, marts, raw counts
and load audit counts as ``supervision run`` over them (the reference run), and tasks ran on both
workers. This is also the backfill test of the Airflow-for-real issue (the LocalExecutor path is
tests/test_scheduler.py's night). The days keep ``supervision run``'s order: D's marts wait for
D's ingestion (``wait_for_ingest_*``), D+1's ingestion for D's marts (``wait_for_previous_marts``),
all sensors in reschedule mode (no worker slot held while they wait).
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.airflow_services import DAG_IDS, AirflowServices, redis_available
from tests.conftest import source_env
from tests.simulated_run import (
    DAYS,
    FIRST,
    LAST,
    SENSOR_POKE_SECONDS,
    audit_counts,
    fingerprint,
    logical_date_of,
    warehouse_url,
)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not redis_available(), reason="redis-server not installed (apt-get install "
                                                                "redis-server; `make test` does it as root)")]


def test_backfill_through_two_celery_workers_equals_supervision_run(simulated_sources, reference_run,
                                                                     tmp_path_factory):
    t = time.monotonic()
    with AirflowServices(tmp_path_factory.mktemp("celery"), source_env(simulated_sources), workers=2,
                         extra_env={"SUPERVISION_SENSOR_POKE_SECONDS": SENSOR_POKE_SECONDS}) as svc:
        ready = time.monotonic() - t
        t = time.monotonic()
        svc.backfill(str(FIRST), str(LAST))
        expected = {(d, logical_date_of(FIRST + timedelta(days=i))) for d in DAG_IDS for i in range(DAYS)}
        runs = svc.wait_runs(expected)
        print(f"celery: services ready in {ready:.0f}s, {FIRST}..{LAST} in {time.monotonic() - t:.0f}s; "
              f"supervision run: {reference_run['seconds']:.0f}s")
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
        url = warehouse_url(svc.env)
        got = {**fingerprint(url), "audit": audit_counts(url)}
    assert got == {**reference_run["fp"], "audit": reference_run["audit"]}
