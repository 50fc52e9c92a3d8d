"""Ingest the training platform database into raw_training (incremental by updated_at)."""
from __future__ import annotations

from airflow.sdk import dag, task

from supervision.dag_support import (
    INGEST_DAG_GUARDS,
    LOAD_TIMEOUT,
    RAW_TRAINING,
    PreviousDayMarts,
    daily_schedule,
    publish_day,
    run_id_of,
    training_db_url,
    warehouse_url,
)

DOC = """
### Training platform → `raw_training`

Pulls every table of the training platform database over SQLAlchemy Core, incrementally by
`updated_at` with a high-water mark per table in `ops.watermarks` (an overlap window of 1 hour is
re-read and merged, so rows committed late with an older `updated_at` are not missed; the largest
`updated_at` wins, re-read rows change nothing).

- **pull_all_tables**: every table, parents first, in one task (measured: the ten pulls of a
  day take under 1 s of work, while ten mapped task instances cost 10-13 s of Airflow overhead
  a day; every pull is idempotent, so a retry re-runs the whole pull safely):
  enum violations → `ops.quarantine`; dangling references loaded and counted in the audit;
  institutions, approved scopes and sites keep every version in `*_history`; ID numbers become
  pseudonyms (plain identity only in `pii.trainees`); one `ops.load_audit` row per table.
  An unreachable source fails the task, which retries with exponential backoff (DEFAULT_ARGS).
  The task emits the `raw_training` Asset.

Code: `supervision.ingest.training`.
"""


@dag(
    dag_id="ingest_training_platform",
    **daily_schedule(),
    **INGEST_DAG_GUARDS,
    tags=["supervision", "ingest", "training"],
    doc_md=DOC,
)
def ingest_training_platform():
    @task(outlets=[RAW_TRAINING], execution_timeout=LOAD_TIMEOUT)
    def pull_all_tables(**context) -> dict:
        from supervision.config import settings
        from supervision.ingest.training import pull_training_platform

        s = settings()
        results = pull_training_platform(training_db_url(), warehouse_url(), run_id_of(context), s.pii_key)
        totals = {k: sum(int(r.get(k) or 0) for r in results.values())
                  for k in ("received", "loaded", "duplicates", "quarantined")}
        publish_day(context, RAW_TRAINING)
        return {"tables": len(results), **totals, "by_table": results}

    PreviousDayMarts() >> pull_all_tables()


ingest_training_platform()
