"""Ingest the assessment platform's CSV exports into raw_assessment."""
from __future__ import annotations

from airflow.sdk import dag, task

from supervision.dag_support import (
    INGEST_DAG_GUARDS,
    RAW_ASSESSMENT,
    PreviousDayMarts,
    daily_schedule,
    local_day,
    publish_day,
    run_id_of,
    warehouse_url,
)

DOC = """
### Assessment exports → `raw_assessment`

Every `assessment/date=*/*.csv` export not yet in `ops.file_manifest` (folders up to the run's day,
late files included), in delivery order: encoding detected (UTF-8, UTF-8 with BOM, GB18030),
Chinese headers mapped in any order, full-width digits and stray spaces normalised, bad rows to
`ops.quarantine` with file and line, upsert by key where the latest delivery (date folder, file,
line) wins. ID numbers become pseudonyms; plain ID numbers and names go to `pii.*` only.
One task: the exports of a day are a few small files, and delivery order matters.

Code: `supervision.ingest.assessment`.
"""


@dag(
    dag_id="ingest_assessments",
    **daily_schedule(),
    **INGEST_DAG_GUARDS,
    tags=["supervision", "ingest", "assessment"],
    doc_md=DOC,
)
def ingest_assessments():
    @task(outlets=[RAW_ASSESSMENT])
    def load_exports(**context) -> dict:
        from datetime import date

        from supervision.config import settings
        from supervision.ingest.assessment import load_assessments

        s = settings()
        summary = load_assessments(s.landing, warehouse_url(), run_id_of(context), s.pii_key,
                                   date.fromisoformat(local_day(context)))
        summary.pop("results")
        publish_day(context, RAW_ASSESSMENT)
        return summary

    PreviousDayMarts() >> load_exports()


ingest_assessments()
