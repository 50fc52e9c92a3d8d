"""Ingest the video platform's JSON Lines files into raw_video.events."""
from __future__ import annotations

from airflow.sdk import dag, task

from supervision.dag_support import (
    HEAVY_POOL,
    INGEST_DAG_GUARDS,
    LOAD_TIMEOUT,
    RAW_VIDEO,
    PreviousDayMarts,
    daily_schedule,
    local_day,
    publish_day,
    run_id_of,
    warehouse_url,
)

DOC = """
### Video monitoring logs → `raw_video.events`

Every `video/date=*/…jsonl.gz` file of the landing area not yet in `ops.file_manifest` (late files
in old folders included; folders up to the run's day) is loaded once: parsed as a stream, bad lines
to `ops.quarantine` (reason, file, line, raw text), a truncated gzip keeps the lines before the
cut, well-formed events deduplicated on (local day, `event_id`), one `ops.load_audit` row per file.

- **pending_batches**: attaches anything an interrupted run left staged, lists the pending files,
  makes a load table for each day that has no partition yet (bulk: indexes built once), and
  splits the files into at most 2 batches of similar size (measured: one mapped task per file
  costs a task start per file, a batch costs one; see `bench/bench_ingest.py`);
- **load_batch** (mapped over the batches): loads its files, one transaction per file (a bulk
  day's file into its load table, a late file merged into its day's partition); a bad file is
  recorded and never stops the others;
- **attach_days**: per bulk day, in one transaction: duplicates out, primary key and
  (camera_id, ts) index built, attached as the day's partition, manifest and audit rows; until
  then readers do not see the day;
- **publish**: emits the `raw_video` Asset (also when there was nothing new).

Code: `supervision.ingest.video`.
"""


@dag(
    dag_id="ingest_video_logs",
    **daily_schedule(),
    **INGEST_DAG_GUARDS,
    tags=["supervision", "ingest", "video"],
    doc_md=DOC,
)
def ingest_video_logs():
    @task
    def pending_batches(**context) -> list[list[str]]:
        from datetime import date

        from supervision.config import settings
        from supervision.ingest.video import plan_load

        s = settings()
        return plan_load(s.landing, warehouse_url(), run_id_of(context), date.fromisoformat(local_day(context)))

    @task(pool=HEAVY_POOL, execution_timeout=LOAD_TIMEOUT)
    def load_batch(paths: list[str], **context) -> dict:
        from supervision.config import settings
        from supervision.ingest.video import load_video_files

        s = settings()
        summary = load_video_files(s.landing, warehouse_url(), run_id_of(context), paths)
        summary.pop("results")  # per-file figures are in ops.load_audit; keep XCom small
        return summary

    @task(trigger_rule="none_failed", pool=HEAVY_POOL, execution_timeout=LOAD_TIMEOUT)
    def attach_days(**context) -> list[dict]:
        from supervision.ingest.video import finish_load

        return finish_load(warehouse_url(), run_id_of(context))

    @task(outlets=[RAW_VIDEO], trigger_rule="none_failed")
    def publish(results: list[dict] | None = None, attached: list[dict] | None = None, **context) -> dict:
        results = list(results or [])
        totals = {k: sum(int(r.get(k) or 0) for r in results)
                  for k in ("files", "received", "loaded", "duplicates", "quarantined", "skipped")}
        dups = sum(int(a.get("duplicates") or 0) for a in attached or [])  # found when the days were attached
        totals["loaded"] -= dups
        totals["duplicates"] += dups
        publish_day(context, RAW_VIDEO)
        return {**totals, "failed_files": [p for r in results for p in r.get("failed_files", [])]}

    batches = pending_batches()
    PreviousDayMarts() >> batches
    loaded = load_batch.expand(paths=batches)
    attached = attach_days()
    loaded >> attached
    publish(loaded, attached)


ingest_video_logs()
