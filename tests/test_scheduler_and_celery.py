"""The pipeline through Airflow's own machinery, as a data engineer deploys it (no `supervision run`):
one set of real services for the scheduler, a backfill and the CeleryExecutor.

Redis (Debian's ``redis-server``; `make test` installs it) on 127.0.0.1 as the broker, results in
the embedded PostgreSQL, the api-server, scheduler, dag-processor, triggerer and two
``airflow celery worker`` processes, each with its own working folder and Celery hostname
(tests/airflow_services.py), over the two simulated days the slow tests share
(tests/simulated_run.py). The deployment goes live on the last day (``SUPERVISION_SCHEDULE_START``
and ``SUPERVISION_SCHEDULE_END``, catch-up on), and the data engineer loads the day before it
with ``airflow backfill create``:

- the backfill runs the first day and the scheduler, by itself, runs the second as scheduled runs
  once the DAGs are unpaused (while the backfill still runs); no run is created after the
  schedule's end;
- tasks run on both workers, and each worker imported the DAGs' modules, dbt and GX once before its
  pool started (``supervision.celery_worker``);
- the days keep ``supervision run``'s order across the backfill and the scheduled night: D's marts
  wait for D's ingestion (``wait_for_ingest_*``), D+1's ingestion for D's marts
  (``wait_for_previous_marts``), every wait deferred to the triggerer (no worker slot held, no
  task process per check: ``supervision.run_waits``);
- the warehouse ends with the same alerts, marts, raw counts and load audit counts as
  ``supervision run`` over the two days (the reference run).

The LocalExecutor that `supervision serve` configures (a single-node deployment) runs the go-live
night of the same days on a fresh warehouse in ``tests/test_serve_loopback.py``.
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

pytestmark = [pytest.mark.slow, pytest.mark.simulated_days,
              pytest.mark.skipif(not redis_available(), reason="redis-server not installed (apt-get install "
                                                                "redis-server; `make test` does it as root)")]


def test_backfill_then_the_scheduled_night_through_celery_equal_supervision_run(simulated_sources, reference_run,
                                                                                 tmp_path_factory):
    deployment = {"SUPERVISION_SCHEDULE_START": str(LAST), "SUPERVISION_SCHEDULE_END": str(LAST),
                  "SUPERVISION_SCHEDULE_CATCHUP": "true", "SUPERVISION_SENSOR_POKE_SECONDS": SENSOR_POKE_SECONDS}
    t = time.monotonic()
    with AirflowServices(tmp_path_factory.mktemp("celery"), source_env(simulated_sources), workers=2,
                         extra_env=deployment) as svc:
        ready = time.monotonic() - t
        t = time.monotonic()
        backfilled = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days)]
        # the DAGs are paused at creation; backfill() unpauses them after creating the backfills,
        # and the scheduler then creates the night of the schedule's only day
        svc.backfill(str(backfilled[0]), str(backfilled[-1]), hold=False)
        expected = {(d, logical_date_of(day)) for d in DAG_IDS for day in [*backfilled, LAST]}
        runs = svc.wait_runs(expected)
        print(f"celery: services ready in {ready:.0f}s, {FIRST}..{LAST} in {time.monotonic() - t:.0f}s; "
              f"supervision run: {reference_run['seconds']:.0f}s")
        kinds = {(r[0], r[1]): r[2] for r in runs}
        assert kinds == {(d, logical_date_of(day)): "backfill" for d in DAG_IDS for day in backfilled} | \
                        {(d, logical_date_of(LAST)): "scheduled" for d in DAG_IDS}, runs
        by_host = dict(svc.query("select hostname, count(*) from task_instance where state = 'success' "
                                 "group by 1"))
        print(f"task instances per host: {by_host}")
        workers = {h.split("@")[0] for h in by_host}
        assert {"worker1", "worker2"} <= workers, by_host
        for name in ("worker1", "worker2"):
            preloaded = [line for line in svc.tail(name, 10_000).splitlines() if "worker preload:" in line]
            assert preloaded and "great_expectations" in preloaded[0], f"{name} did not preload:\n{svc.tail(name)}"
        # D+1's ingestion waited for D's marts: each ingestion run of days 2 and 3 started its work
        # (its first task after the wait) after the previous day's marts run had ended
        order = svc.query("select dr.dag_id, dr.logical_date, min(ti.start_date) filter (where ti.task_id "
                          "not like 'wait\\_for\\_%'), max(ti.end_date) "
                          "from dag_run dr join task_instance ti using (dag_id, run_id) group by 1, 2")
        marts_end = {ld: end for d, ld, _, end in order if d == "supervision_marts"}
        assert len(marts_end) == DAYS, order
        followed = 0
        for dag_id, logical, started, _ in order:
            previous = logical - timedelta(days=1)
            if dag_id != "supervision_marts" and previous in marts_end:
                assert started >= marts_end[previous], f"{dag_id} {logical} started before the marts of {previous}"
                followed += 1
        assert followed == len(DAG_IDS) - 1, order  # the scheduled night's three ingestion runs
        # the scheduled night's waits (for day 1's backfilled marts, for its own ingestion) waited in
        # the triggerer (a deferred task leaves a trigger log)
        night = svc.query(f"select dag_id, run_id from dag_run where logical_date = "
                          f"'{logical_date_of(LAST).isoformat()}'")
        logs = svc.var / "airflow" / "logs"
        deferred = [p for dag_id, run_id in night
                    for p in (logs / f"dag_id={dag_id}" / f"run_id={run_id}").glob("task_id=wait_for_*/*.trigger.*.log")]
        assert len(night) == 4 and deferred, f"no wait of the scheduled night was deferred to the triggerer: {night}"
        url = warehouse_url(svc.env)
        got = {**fingerprint(url), "audit": audit_counts(url)}
    assert got == {**reference_run["fp"], "audit": reference_run["audit"]}
