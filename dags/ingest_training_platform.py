"""Ingest the training platform database into raw_training (incremental by updated_at)."""
from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from supervision.dag_support import DEFAULT_ARGS, RAW_TRAINING, run_id_of

DOC = """
### Training platform → `raw_training`

Pulls every table of the training platform database over SQLAlchemy Core, incrementally by
`updated_at` with a high-water mark per table in `ops.watermarks` (an overlap window of 1 hour is
re-read and merged, so rows committed late with an older `updated_at` are not missed; the largest
`updated_at` wins, re-read rows change nothing).

- **tables**: the list of tables (a task, so that parsing this file imports nothing but Airflow);
- **pull_table** (mapped, one per table, parents first, at most 2 at a time against the source):
  enum violations → `ops.quarantine`; dangling references loaded and counted in the audit;
  institutions, approved scopes and sites keep every version in `*_history`; ID numbers become
  pseudonyms (plain identity only in `pii.trainees`); one `ops.load_audit` row per table.
  An unreachable source fails the task, which retries with exponential backoff (DEFAULT_ARGS).
- **publish**: emits the `raw_training` Asset.

Code: `supervision.ingest.training`.
"""


@dag(
    dag_id="ingest_training_platform",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["supervision", "ingest", "training"],
    doc_md=DOC,
)
def ingest_training_platform():
    @task
    def tables() -> list[str]:
        from supervision.ingest.training import TABLE_NAMES

        return list(TABLE_NAMES)

    @task(max_active_tis_per_dagrun=2)
    def pull_table(table: str, **context) -> dict:
        from supervision.config import settings
        from supervision.ingest.training import pull_table as pull

        s = settings()
        return pull(s.training_db_url(), s.warehouse_url(), run_id_of(context), s.pii_key, table)

    @task(outlets=[RAW_TRAINING])
    def publish(results: list[dict]) -> dict:
        totals = {k: sum(int(r.get(k) or 0) for r in results)
                  for k in ("received", "loaded", "duplicates", "quarantined")}
        return {"tables": len(results), **totals}

    publish(pull_table.expand(table=tables()))


ingest_training_platform()
