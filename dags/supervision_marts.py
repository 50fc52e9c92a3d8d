"""Supervision marts: gates, dbt (through Cosmos), record-level flags, alert upkeep, BI roles, notifications."""
from __future__ import annotations

from pathlib import Path

from airflow.sdk import dag, task

from supervision.dag_support import (
    DBT_TIMEOUT,
    GX_TIMEOUT,
    HEAVY_POOL,
    INGEST_DAG_IDS,
    MARTS,
    RAW_ASSESSMENT,
    RAW_TRAINING,
    RAW_VIDEO,
    SHORT_TIMEOUT,
    SUPERVISION_ALERTS,
    WAREHOUSE_CONN_ID,
    daily_schedule,
    local_day,
    marts_dag_guards,
    run_id_of,
    wait_for_ingest,
    warehouse_url,
    without_deadline_in_dag_test,
)
from supervision.dbt_profile import profile_config
from supervision.dbt_tasks import DailyDbtBuild

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"

# the warehouse connection's profile; its password is optional (libpq's PGPASSWORD, .pgpass, trust)
_profile = profile_config(WAREHOUSE_CONN_ID)

DOC = """
### Supervision marts (one business day)

Write-audit-publish over the raw layer the three ingestion DAGs loaded:

1. **bootstrap**: warehouse schema in step (idempotent).
2. **quality_gates**: Great Expectations gates on what was loaded (schema, enums, keys, ranges,
   freshness, volume). A failed gate stops the run here, so the marts of the last good run stay.
3. **dbt_models** (one Cosmos `dbt build`): staging, intermediate, core and the 16 dbt rule models
   with their data tests; after a code change also the views, seeds and unit tests
   (`supervision.dbt_daily`). Every node's result lands in `ops.dbt_node_results`.
4. **record_flags**: GX suites for the 6 record-level rules, findings to `ops.gx_rule_findings`.
5. **alert_upkeep**: merges all findings into `marts.supervision_alerts` (status never touched).
6. **dbt_alert_marts**: marts that count alerts (institution scorecard, evaluation org quality).
7. **sync_roles**: BI and reviewer roles and grants in step; **notify**: new high alerts by email.

One run per business day D, on the ingestion DAGs' timetable (interval [D hh:00, D+1 hh:00)
local, started at hh of D+1, `SUPERVISION_DAILY_RUN_HOUR`): the run knows D from its data interval.
**wait_for_*** sensors (deferrable: checked once, then the triggerer waits; no worker slot held) let it start only when
the three ingestion runs of the same interval have succeeded (and fail it when one failed), so every
day gets exactly one marts run, in order, on every path: the nightly schedule, `airflow backfill
create` over a range (all four DAGs), a cleared day, `supervision run`. D reaches the gates, dbt
(`vars.run_date`) and the Asset events the ingestion DAGs emit (`extra.business_day`).
"""


@dag(
    dag_id="supervision_marts",
    **daily_schedule(),
    **marts_dag_guards(),
    tags=["supervision", "marts", "rules", "alerts"],
    doc_md=DOC,
)
def supervision_marts():
    # the three ingestion runs of this run's interval (same logical date), one wait after the other
    waits = [wait_for_ingest(dag_id) for dag_id in INGEST_DAG_IDS]
    for before, after in zip(waits, waits[1:], strict=False):
        before >> after

    @task(retries=1)
    def bootstrap() -> None:
        from supervision.warehouse import bootstrap as _bootstrap

        _bootstrap(warehouse_url())

    @task(retries=0, pool=HEAVY_POOL, execution_timeout=GX_TIMEOUT,
          inlets=[RAW_TRAINING, RAW_VIDEO, RAW_ASSESSMENT])
    def quality_gates(**context) -> dict:
        from supervision.heap import frozen_heap
        from supervision.quality import run_gates

        with frozen_heap():
            result = run_gates(warehouse_url(), run_id_of(context), local_day(context))
        return {"success": result.success, "failures": len(result.failures), "docs": str(result.docs_path),
                "seconds": round(result.seconds, 2)}

    dbt_models = DailyDbtBuild(task_id="dbt_models", part="models", project_dir=DBT_PROJECT,
                               profile_config=_profile, retries=0, pool=HEAVY_POOL, execution_timeout=DBT_TIMEOUT)

    @task(retries=1, pool=HEAVY_POOL, execution_timeout=GX_TIMEOUT)
    def record_flags(**context) -> dict:
        from supervision.heap import frozen_heap
        from supervision.quality import run_record_flags

        with frozen_heap():
            return dict(run_record_flags(warehouse_url(), run_id_of(context)))

    @task(retries=1, outlets=[SUPERVISION_ALERTS], pool=HEAVY_POOL)
    def alert_upkeep() -> dict:
        from supervision.alerts.upkeep import run_upkeep

        # stamped with the wall-clock time of this run (a backfill's logical date is not when it ran)
        return run_upkeep(warehouse_url())

    dbt_alert_marts = DailyDbtBuild(task_id="dbt_alert_marts", part="alert_marts", project_dir=DBT_PROJECT,
                                    profile_config=_profile, retries=0, pool=HEAVY_POOL,
                                    execution_timeout=DBT_TIMEOUT)

    @task(retries=2, outlets=[MARTS], execution_timeout=SHORT_TIMEOUT)
    def sync_roles() -> None:
        from supervision.access import sync_roles as _sync

        _sync(warehouse_url())

    @task(retries=2, execution_timeout=SHORT_TIMEOUT)
    def notify(upkeep: dict) -> int:
        from datetime import datetime

        from supervision.review.notify import notify_from_environment

        return notify_from_environment(since=datetime.fromisoformat(upkeep["run_time"]), warehouse_url=warehouse_url())

    upkeep = alert_upkeep()
    (waits[-1] >> bootstrap() >> quality_gates() >> dbt_models >> record_flags() >> upkeep
     >> dbt_alert_marts >> sync_roles())
    dbt_alert_marts >> notify(upkeep)


without_deadline_in_dag_test(supervision_marts())
