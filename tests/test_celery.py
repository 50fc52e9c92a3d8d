"""Scale-out that starts: the pipeline through the CeleryExecutor and two real Celery workers.

Redis (Debian's ``redis-server``; `make test` installs it) on 127.0.0.1 as the broker, results in
the embedded PostgreSQL, the api-server, scheduler, dag-processor, triggerer and two
``airflow celery worker`` processes, each with its own working folder and Celery hostname
(tests/airflow_services.py). A data engineer's ``airflow backfill create`` of the last two complete
business days must leave the same alerts, marts and audit counts as ``supervision run`` (in one
process) over the same days; tasks ran on both workers, and Cosmos' watcher sensors deferred to the
triggerer (they wait there for the ``dbt build`` producer instead of holding a worker slot).
"""
from __future__ import annotations

import subprocess
import time
from datetime import timedelta

import pytest

from tests.airflow_services import DAG_IDS, AirflowServices, redis_available
from tests.test_end_to_end import CLI, _cli, _env, _warehouse_url, fingerprint
from tests.test_scheduler import audit_counts, last_business_day, logical_date_of, week  # noqa: F401

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not redis_available(), reason="redis-server not installed (apt-get install "
                                                                "redis-server; `make test` does it as root)")]

DAYS = 2


def test_two_days_through_two_celery_workers_equal_supervision_run(week, tmp_path_factory):  # noqa: F811
    last = last_business_day()
    first = last - timedelta(days=DAYS - 1)
    ref_env = _env(tmp_path_factory.mktemp("celery_ref"), **week)
    t = time.monotonic()
    try:
        _cli(ref_env, "run", "--start", str(first), "--end", str(last))
        url = _warehouse_url(ref_env)
        reference = {**fingerprint(url), "audit": str(audit_counts(url))}
    finally:
        subprocess.run([*CLI, "warehouse", "stop"], env=ref_env, capture_output=True)
    ref_seconds = time.monotonic() - t

    t = time.monotonic()
    with AirflowServices(tmp_path_factory.mktemp("celery"), week, workers=2) as svc:
        ready = time.monotonic() - t
        t = time.monotonic()
        svc.backfill(str(first), str(last))
        expected = {(d, logical_date_of(first + timedelta(days=i))) for d in DAG_IDS for i in range(DAYS)}
        runs = svc.wait_runs(expected)
        print(f"celery: services ready in {ready:.0f}s, {first}..{last} in {time.monotonic() - t:.0f}s; "
              f"supervision run: {ref_seconds:.0f}s")
        assert {r[2] for r in runs} == {"backfill"}, runs
        url = _warehouse_url(svc.env)
        assert {**fingerprint(url), "audit": str(audit_counts(url))} == reference

        by_host = dict(svc.query("select hostname, count(*) from task_instance where state = 'success' "
                                 "group by 1"))
        print(f"task instances per host: {by_host}")
        workers = {h.split("@")[0] for h in by_host}
        assert {"worker1", "worker2"} <= workers, by_host
        # the watcher sensors ran through the triggerer: each deferred at least once (its history
        # keeps the deferred try), and the triggerer ran their triggers
        sensors = svc.query("select count(*) from task_instance where task_id like 'dbt_models.%' "
                            "and operator = 'DbtConsumerWatcherSensor' and state = 'success'")[0][0]
        assert sensors > 0
        triggerer_log = (svc.logs / "triggerer.log").read_text(errors="replace")
        assert "WatcherTrigger" in triggerer_log, svc.tail("triggerer")
