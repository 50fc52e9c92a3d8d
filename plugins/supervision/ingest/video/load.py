"""Loading video files: one file in one transaction, a batch over worker threads or processes,
and ``load_video``, which plans, loads and attaches (the DAG runs the three steps as tasks).

A file of a day loaded in bulk is COPYed straight into the day's load table (manifest status
``staged``; :mod:`.partitions` attaches it), its event ids into ``ops.video_staged_ids``. A file
of a day that already has its partition (a late file, a re-delivery) is merged into it: binary
COPY into a temporary table, then ``INSERT ... ON CONFLICT DO NOTHING`` (first delivery wins).
"""
from __future__ import annotations

import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from psycopg.adapt import PyFormat

import supervision.ingest.video.native as native
from supervision.ingest.common import (
    BadRecord,
    Counts,
    LandingFile,
    chunked,
    connect,
    cpu_count,
    finish_file,
    now_utc,
    pending_files,
    register_file,
    write_audit,
    write_failure_audit,
    write_quarantine,
)
from supervision.ingest.video.copy import ROW_COLUMNS, ROW_TYPES
from supervision.ingest.video.parse import SOURCE, SUFFIX, FileReading, parse_file, parse_file_native
from supervision.ingest.video.partitions import (
    day_lock,
    finish_load,
    load_table_name,
    prepare_bulk_day,
    table_exists,
    target_for,
)

log = logging.getLogger(__name__)

_STAGE_DDL = """
create temp table if not exists _video_stage (
    event_id uuid, camera_id text, ts timestamptz, type text, state text, count integer,
    trainee_id text, score numeric, line_no integer, file_id bigint)
    on commit delete rows
"""
# {target}: the day's partition (or the parent, for an unpartitioned table / no partition rights).
# ON CONFLICT without a target: the key is (event_id, local_date) when partitioned, event_id on an
# older unpartitioned table.
_MERGE = """
insert into {target} (event_id, camera_id, ts, type, state, count, trainee_id, score,
                      local_date, file_id, line_no)
select event_id, camera_id, ts, type, state, count, trainee_id, score, %(day)s::date, file_id, line_no
from _video_stage
order by event_id, line_no  -- first delivery wins; same lock order in every worker (no deadlock)
on conflict do nothing
"""


def load_video_file(landing: Path, warehouse_url: str, run_id: str, path: str) -> dict[str, Any]:
    """Load one landing file (``path`` relative to ``landing``) in one transaction.

    Into its day's load table when the day is being loaded in bulk (status ``staged``: attached
    and counted for duplicates by ``finish_load``), else merged into the day's partition (status
    ``loaded``). Returns its counts and status. Never raises for a bad file: a file that cannot be
    read is recorded (manifest 'failed', audit, quarantine) and the caller moves on."""
    landing = Path(landing)
    full = landing / path
    started = now_utc()
    try:
        local = date.fromisoformat(Path(path).parent.name.removeprefix("date="))
        lf = LandingFile(path, local, full.stat().st_size)
        with connect(warehouse_url, temp_buffers="256MB") as conn:
            return _load_file(conn, landing, lf, run_id, started)
    except Exception as err:  # noqa: BLE001 - a bad file must never stop the others
        log.exception("video file %s failed", path)
        write_failure_audit(warehouse_url, run_id=run_id, source=SOURCE, obj=path, started_at=started,
                            message=f"{type(err).__name__}: {err}")
        return {"path": path, "status": "failed", "error": f"{type(err).__name__}: {err}",
                **Counts().as_dict()}


def _load_file(conn: Any, landing: Path, lf: LandingFile, run_id: str, started: datetime) -> dict[str, Any]:
    day = lf.local_date
    bulk = None
    if table_exists(conn, load_table_name(day)):
        # shared: many files of the day at once; finish_load takes it exclusively to attach
        conn.execute("select pg_advisory_xact_lock_shared(hashtext(%s))", (day_lock(day),))
        if table_exists(conn, load_table_name(day)):
            bulk = load_table_name(day)
        else:  # attached meanwhile
            conn.rollback()
    target = bulk or target_for(conn, day)
    # Lock on the path so that two workers given the same file load it once.
    conn.execute("select pg_advisory_xact_lock(hashtext('video:' || %s))", (lf.path,))
    if conn.execute("select 1 from ops.file_manifest where path = %s", (lf.path,)).fetchone():
        conn.rollback()
        return {"path": lf.path, "status": "already_loaded", **Counts().as_dict()}
    # file_id is needed in every row, so the manifest row comes first; its checksum is filled in
    # once the file has been read (the same pass computes it).
    file_id = register_file(conn, SOURCE, lf, "pending", run_id)
    assert file_id is not None  # the advisory lock makes the path ours
    counts = Counts()
    bad: list[BadRecord] = []
    reading = FileReading()
    with conn.cursor() as cur:
        if bulk is None:
            cur.execute(_STAGE_DDL)
        into = bulk or "_video_stage"
        ids = None
        if native.NATIVE is not None:  # binary COPY tuples made by the native fast path
            # a bulk day's event ids, for its attach (ops.video_staged_ids): spooled to disk
            # beyond 16 MB, so that memory stays flat however large the file
            ids = tempfile.SpooledTemporaryFile(max_size=_IDS_PART) if bulk else None
            with cur.copy(f"copy {into} ({', '.join(ROW_COLUMNS)}) from stdin (format binary)") as cp:
                parse_file_native(landing / lf.path, reading, file_id, cp.write, counts, bad,
                                   ids.write if ids is not None else _discard)
        else:
            # by oid, bytea's binary dumper is psycopg's DB-API one (Python, ~0.75 us a call); the
            # C one that bytes objects get by type is the same bytes on the wire
            cur.adapters.register_dumper(None, cur.adapters.get_dumper(bytes, PyFormat.BINARY))
            with cur.copy(f"copy {into} ({', '.join(ROW_COLUMNS)}) from stdin (format binary)") as cp:
                cp.set_types(list(ROW_TYPES))
                parse_file(landing / lf.path, reading, file_id, cp.write_row, counts, bad)
        staged = cur.rowcount
        if staged is None or staged < 0:
            staged = cur.execute(f"select count(*) from {into} where file_id = %s", (file_id,)).fetchone()[0]
        if reading.damage is not None:
            bad.append(reading.damage)
        if bulk is None:
            cur.execute(_MERGE.format(target=target), {"day": day})
            counts.loaded = cur.rowcount
            # no TRUNCATE: the stage is emptied at commit (ON COMMIT DELETE ROWS)
        else:
            counts.loaded = staged  # duplicates are counted when the day is attached
    counts.duplicates = staged - counts.loaded
    counts.quarantined = write_quarantine(conn, SOURCE, lf.path, bad, run_id)
    counts.received = counts.loaded + counts.duplicates + counts.quarantined + counts.skipped
    message = reading.damage.detail if reading.damage else None
    if reading.unreadable:
        status = "failed"
    else:
        status = "staged" if bulk else "loaded"
    if ids is not None:
        if status == "staged":
            _store_staged_ids(conn, file_id, ids)
        ids.close()
    conn.execute("update ops.file_manifest set sha256 = %s, size_bytes = %s where file_id = %s",
                 (reading.hash.hexdigest(), reading.size, file_id))
    finish_file(conn, file_id, counts, status, message)
    if status != "staged":  # a staged file's audit row is written when its day is attached
        write_audit(conn, run_id=run_id, source=SOURCE, obj=lf.path, started_at=started, counts=counts,
                    status="failed" if reading.unreadable else "ok", message=message)
    conn.commit()
    return {"path": lf.path, "status": status, "file_id": file_id, **counts.as_dict()}


_IDS_PART = 16 << 20  # bytes of event ids in one ops.video_staged_ids row (1 M ids)


def _discard(_: Any) -> None:
    pass


def _store_staged_ids(conn: Any, file_id: int, ids: Any) -> None:
    """The staged file's event ids into ops.video_staged_ids, in parts of at most 1 M ids (one
    row even when the file has none: a staged file without rows there was staged by an older
    loader, and its day's attach then reads the ids from the load table)."""
    ids.seek(0)
    part = 0
    while True:
        chunk = ids.read(_IDS_PART)
        if chunk or part == 0:
            conn.execute("insert into ops.video_staged_ids (file_id, part, event_ids) values (%s, %s, %s)",
                         (file_id, part, chunk))
        if len(chunk) < _IDS_PART:
            return
        part += 1



# --- planning and running a load --------------------------------------------------------------

def plan_load(landing: Path, warehouse_url: str, run_id: str | None = None, day: date | None = None,
              workers: int | None = None) -> list[list[str]]:
    """The pending files (folders up to ``day``; late files in old folders included), split into
    ``workers`` batches of similar size; days with no partition yet get their load table.
    Anything an interrupted load left staged is attached first."""
    from supervision.warehouse import bootstrap

    landing = Path(landing)
    bootstrap(warehouse_url)
    finish_load(warehouse_url, run_id)
    with connect(warehouse_url) as conn:
        pending = pending_files(conn, landing, SOURCE, SUFFIX, day, run_id)
        for d in sorted({lf.local_date for lf in pending}):
            prepare_bulk_day(conn, d)
    return batches_for_mapping([lf.path for lf in pending], landing, workers)


def list_pending_files(landing: Path, warehouse_url: str, day: date | None = None,
                       run_id: str | None = None) -> list[str]:
    """Landing-relative paths of video files not loaded yet (late files in old folders included),
    oldest folder first. Files changed after their load are reported (audit + quarantine), not listed."""
    from supervision.warehouse import bootstrap

    bootstrap(warehouse_url)
    with connect(warehouse_url) as conn:
        return [lf.path for lf in pending_files(conn, Path(landing), SOURCE, SUFFIX, day, run_id)]


def load_video_files(landing: Path, warehouse_url: str, run_id: str, paths: Sequence[str],
                     workers: int | None = None) -> dict[str, Any]:
    """Load a batch of files, spread over ``workers`` (default: one per core, at most 2 on these
    machines); returns totals and the per-file results. Files of a bulk day end ``staged``:
    ``finish_load`` attaches them.

    With the native parser the workers are threads. The Python parser holds the GIL, so its
    workers are plain ``python -m supervision.ingest.video`` subprocesses rather than a
    multiprocessing pool: fork is unsafe in a threaded caller (an Airflow task), and spawn
    re-imports the caller's ``__main__``, which breaks any script without a main guard."""
    paths = list(paths)
    workers = max(1, min(workers or min(cpu_count(), 2), len(paths) or 1))
    if workers == 1:
        return summarise(_load_paths(landing, warehouse_url, run_id, paths))
    batches = batches_for_mapping(paths, landing, workers)
    if native.NATIVE is not None:
        # The native parser, inflate, SHA-256 and the socket writes release the GIL: threads load
        # in parallel without a process start and its imports per worker (~0.25 s each, measured)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            done = pool.map(lambda batch: _load_paths(landing, warehouse_url, run_id, batch), batches)
            return summarise([r for results in done for r in results])
    import subprocess

    procs = []
    for batch in batches:
        job = json.dumps({"landing": str(landing), "warehouse_url": warehouse_url, "run_id": run_id,
                          "paths": batch})
        proc = subprocess.Popen([sys.executable, "-m", "supervision.ingest.video"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdin is not None
        proc.stdin.write(job)
        proc.stdin.close()
        procs.append((proc, batch))
    results: list[dict[str, Any]] = []
    for proc, batch in procs:
        out = proc.stdout.read() if proc.stdout else ""
        if proc.wait() != 0 or not out.strip():
            # The worker died (killed, out of memory): its files stay pending unless committed.
            results += [{"path": p, "status": "failed", "error": f"worker exited {proc.returncode}",
                         **Counts().as_dict()} for p in batch]
            continue
        results += json.loads(out.strip().splitlines()[-1])
    return summarise(results)


def _load_paths(landing: Path, warehouse_url: str, run_id: str, paths: Sequence[str]) -> list[dict[str, Any]]:
    """One worker's files, one after the other (load_video_file never raises for a bad file)."""
    return [load_video_file(landing, warehouse_url, run_id, p) for p in paths]


def worker_main() -> None:
    job = json.load(sys.stdin)
    results = _load_paths(Path(job["landing"]), job["warehouse_url"], job["run_id"], job["paths"])
    sys.stdout.write(json.dumps(results) + "\n")


def summarise(results: Sequence[dict[str, Any]], attached: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """Totals of per-file results; ``attached`` (from finish_load) moves the duplicates found
    when bulk days were attached from loaded to duplicates."""
    total = Counts()
    for r in results:
        total.add(Counts(**{k: r.get(k, 0) for k in Counts().as_dict()}))
    dups = sum(a["duplicates"] for a in attached)
    total.loaded -= dups
    total.duplicates += dups
    failed = [r["path"] for r in results if r.get("status") == "failed"]
    return {"files": len(results), "failed_files": failed, **total.as_dict(), "results": list(results)}


def load_video(landing: Path, warehouse_url: str, run_id: str, day: date | None = None,
               workers: int | None = None) -> dict[str, Any]:
    """Load every video file not loaded yet (folders up to ``day``, all when None). Idempotent."""
    batches = plan_load(landing, warehouse_url, run_id, day, workers)
    paths = [p for batch in batches for p in batch]
    results = load_video_files(landing, warehouse_url, run_id, paths, workers)["results"]
    summary = summarise(results, finish_load(warehouse_url, run_id))
    log.info("video: %s", json.dumps({k: v for k, v in summary.items() if k != "results"}))
    return summary


def batches_for_mapping(paths: Sequence[str], landing: Path, n: int | None = None) -> list[list[str]]:
    """Split pending files into ``n`` batches of similar total size, one mapped task each."""
    landing = Path(landing)
    n = n or min(cpu_count(), 2)
    sized = sorted(paths, key=lambda p: -(landing / p).stat().st_size)
    return chunked(sized, n)


__all__ = ["batches_for_mapping", "list_pending_files", "load_video", "load_video_file", "load_video_files",
           "plan_load", "summarise", "worker_main"]
