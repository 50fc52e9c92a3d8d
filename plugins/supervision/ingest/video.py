"""Video monitoring platform: ``<landing>/video/date=YYYY-MM-DD/*.jsonl.gz`` into ``raw_video.events``.

Each file is loaded once (``ops.file_manifest``, by landing-relative path, with size and SHA-256)
in one transaction: manifest row, events, quarantine and audit commit together, so a crash leaves
the file pending and a rerun changes nothing. Unknown camera ids are loaded (the cameras table can
lag behind the video platform; the rules join on cameras).

``raw_video.events`` is partitioned by ``local_date``, one partition per day (see warehouse.sql).
The loader makes the partition of a file's ``date=`` folder when it first meets that day (its own
short transaction, under an advisory lock; rows a direct writer left for that day in the DEFAULT
partition are moved into it), and writes the file's rows straight into that partition. Events are
deduplicated on (local_date, event_id), within the file and against every file loaded before for
that day (``ON CONFLICT DO NOTHING``): the contract puts every delivery of an event in the same
``date=`` folder. So a file's load touches one day's indexes only, and costs the same whatever the
history holds. A warehouse bootstrapped before partitioning (a plain ``raw_video.events``) is
loaded as before, deduplicated against the whole table.

Speed: the file is read once (checksum and decompression in the same pass, with zlib directly so
that a truncated member keeps every line decoded before it), each line is decoded by msgspec into
a typed struct in C (a line that fails goes through a slow path that names the reason), rows go to
a temporary table by binary COPY (only the per-line columns: the day and file_id are constants of
the file, added by the server), and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` moves
them into the day's partition. Files are spread over worker processes (one per core).
"""
from __future__ import annotations

import hashlib
import json
import logging
import sys
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from supervision.ingest.common import (
    Counts,
    LandingFile,
    Quarantined,
    chunked,
    connect,
    cpu_count,
    finish_file,
    list_landing_files,
    now_utc,
    pending_files,
    register_file,
    write_audit,
    write_failure_audit,
    write_quarantine,
)

log = logging.getLogger(__name__)

SOURCE = "video"
SUFFIX = ".jsonl.gz"
TYPES = frozenset({"status", "headcount", "face"})
STATES = frozenset({"online", "offline", "occluded", "tampered"})
INT4_MAX = 2**31 - 1
_READ_BLOCK = 1 << 20
_RAW_TEXT_MAX = 8000  # a quarantined line is kept whole up to this many characters


class _Event(msgspec.Struct, gc=False):
    """The fast path: a well-formed event decodes straight into this, validated in C."""
    event_id: uuid.UUID
    camera_id: str
    ts: datetime
    type: Literal["status", "headcount", "face"]
    state: Literal["online", "offline", "occluded", "tampered"] | None = None
    count: Annotated[int, msgspec.Meta(ge=0, le=INT4_MAX)] | None = None
    trainee_id: str | None = None
    score: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None


_decode_event = msgspec.json.Decoder(_Event).decode
_decode_any = msgspec.json.Decoder().decode

STAGE_COLUMNS = ("event_id", "camera_id", "ts", "type", "state", "count", "trainee_id", "score", "line_no")
STAGE_TYPES = ("uuid", "text", "timestamptz", "text", "text", "int4", "text", "float8", "int4")
_STAGE_DDL = """
create temp table if not exists _video_stage (
    event_id uuid, camera_id text, ts timestamptz, type text, state text, count integer,
    trainee_id text, score float8, line_no integer)
    on commit delete rows
"""
# {target}: the day's partition (or the parent, for an unpartitioned table / no partition rights).
# ON CONFLICT without a target: the key is (local_date, event_id) when partitioned, event_id on an
# older unpartitioned table.
_MERGE = """
insert into {target} (event_id, camera_id, ts, type, state, count, trainee_id, score,
                      local_date, file_id, line_no)
select event_id, camera_id, ts, type, state, count, trainee_id, score::numeric, %(day)s::date,
       %(file_id)s::bigint, line_no
from _video_stage
order by event_id, line_no  -- first delivery wins; same lock order in every worker (no deadlock)
on conflict do nothing
"""
PARENT = "raw_video.events"
DEFAULT_PARTITION = "raw_video.events_default"
_PARTITION_LOCK = "video:partitions"


class _Bad(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _row_of(e: _Event, line_no: int) -> tuple[Any, ...] | None:
    """The stage row of a fast-decoded event, or None when a rule the types cannot express fails."""
    if e.ts.tzinfo is None or not e.camera_id or "\x00" in e.camera_id:
        return None
    t = e.type
    if t == "status":
        if e.state is None:
            return None
        return (e.event_id, e.camera_id, e.ts, t, e.state, None, None, None, line_no)
    if t == "headcount":
        if e.count is None:
            return None
        return (e.event_id, e.camera_id, e.ts, t, None, e.count, None, None, line_no)
    if e.score is None or (e.trainee_id is not None and "\x00" in e.trainee_id):
        return None
    return (e.event_id, e.camera_id, e.ts, t, None, None, e.trainee_id, e.score, line_no)


def _text_field(obj: dict, name: str, *, required: bool = True) -> str | None:
    if name not in obj or obj[name] is None:
        if required:
            raise _Bad(f"missing:{name}", f"{name} is missing or null")
        return None
    v = obj[name]
    if not isinstance(v, str) or (required and not v) or "\x00" in v:
        raise _Bad(f"bad_{name}", f"{name} must be a non-empty string, got {v!r}"[:300])
    return v


def _slow_row(line: bytes) -> tuple[Any, ...]:
    """Validate a line the fast path rejected; return its row or raise _Bad with the reason.

    Accepts what the contract allows even where the fast decoder is stricter (e.g. an ISO 8601
    timestamp that ``datetime.fromisoformat`` reads but RFC 3339 does not)."""
    try:
        obj = _decode_any(line)
    except (msgspec.DecodeError, UnicodeDecodeError) as err:
        raise _Bad("not_json", f"not a JSON line: {err}") from None
    if not isinstance(obj, dict):
        raise _Bad("not_object", f"a JSON {type(obj).__name__}, not an object")
    if obj.get("type") is None:
        raise _Bad("missing:type", "type is missing or null")
    t = obj["type"]
    if t not in TYPES:
        raise _Bad("unknown_type", f"unknown type {t!r}"[:300])
    eid = _text_field(obj, "event_id")
    try:
        event_id = uuid.UUID(eid)
    except (ValueError, TypeError):
        raise _Bad("bad_event_id", f"event_id is not a UUID: {eid!r}"[:300]) from None
    camera_id = _text_field(obj, "camera_id")
    ts_text = _text_field(obj, "ts")
    try:
        ts = datetime.fromisoformat(ts_text)  # type: ignore[arg-type]
    except ValueError:
        raise _Bad("bad_ts", f"ts is not an ISO 8601 timestamp: {ts_text!r}"[:300]) from None
    if ts.tzinfo is None:
        raise _Bad("ts_without_offset", f"ts has no UTC offset: {ts_text!r}"[:300])
    if t == "status":
        state = obj.get("state")
        if state is None:
            raise _Bad("missing:state", "a status event without state")
        if state not in STATES:
            raise _Bad("bad_state", f"unknown state {state!r}"[:300])
        return (event_id, camera_id, ts, t, state, None, None, None)
    if t == "headcount":
        count = obj.get("count")
        if count is None:
            raise _Bad("missing:count", "a headcount event without count")
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= INT4_MAX:
            raise _Bad("bad_count", f"count must be an integer >= 0, got {count!r}"[:300])
        return (event_id, camera_id, ts, t, None, count, None, None)
    trainee_id = _text_field(obj, "trainee_id", required=False)
    score = obj.get("score")
    if score is None:
        raise _Bad("missing:score", "a face event without score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1:
        raise _Bad("bad_score", f"score must be a number in 0..1, got {score!r}"[:300])
    return (event_id, camera_id, ts, t, None, None, trainee_id, float(score))


# --- reading a gzip file ----------------------------------------------------------------------

@dataclass
class _FileReading:
    """What reading one file found besides its lines: checksum, size and any stream damage."""
    hash: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    damage: Quarantined | None = None
    unreadable: bool = False


def _gzip_lines(path: Path, reading: _FileReading) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of a gzip file, streaming; multi-member aware.

    Damage (truncation, corrupt data, garbage after the last member) ends the iteration and is
    recorded in ``reading.damage``; every complete line decoded before it has been yielded."""
    d = zlib.decompressobj(wbits=31)
    in_member = False  # fed input that has not reached its end marker yet
    pending = b""      # the incomplete last line so far
    line_no = 0
    with path.open("rb", buffering=0) as f:
        while True:
            block = f.read(_READ_BLOCK)
            if not block:
                break
            reading.hash.update(block)
            reading.size += len(block)
            data = block
            try:
                while data:
                    in_member = True
                    out = d.decompress(data)
                    if out:
                        parts = (pending + out).split(b"\n")
                        pending = parts.pop()
                        for line in parts:
                            line_no += 1
                            yield line_no, line
                    if not d.eof:
                        break
                    in_member = False
                    data = d.unused_data
                    d = zlib.decompressobj(wbits=31)
                    if data[:2] != b"\x1f\x8b" and data.strip(b"\x00"):
                        # zero padding after the last member is harmless; anything else is not gzip
                        raise zlib.error("data after a gzip member is not gzip")
                    if data[:2] != b"\x1f\x8b":
                        data = b""
            except zlib.error as err:
                for rest in iter(lambda: f.read(_READ_BLOCK), b""):  # keep hashing for the manifest
                    reading.hash.update(rest)
                    reading.size += len(rest)
                if line_no == 0 and not pending and not _is_gzip(path):
                    reading.unreadable = True
                    reading.damage = Quarantined("file", "not_gzip", f"not a gzip file: {err}")
                else:
                    reading.damage = Quarantined(str(line_no + 1), "corrupt_gzip",
                                                 f"gzip data corrupt after line {line_no}: {err}",
                                                 _raw(pending) if pending else None)
                return
    if reading.size == 0:
        reading.unreadable = True
        reading.damage = Quarantined("file", "not_gzip", "empty file (not even a gzip header)")
        return
    if in_member:  # the stream ended before the member's end marker: the file was cut short
        reading.damage = Quarantined(str(line_no + 1), "truncated_gzip",
                                     f"gzip stream ends inside a member after line {line_no};"
                                     " the lines before it were loaded",
                                     _raw(pending) if pending else None)
        return
    if pending:
        line_no += 1
        yield line_no, pending


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _raw(line: bytes) -> str:
    return line[:_RAW_TEXT_MAX * 4].decode("utf-8", "replace")[:_RAW_TEXT_MAX]


# --- loading ----------------------------------------------------------------------------------

def list_pending_files(landing: Path, warehouse_url: str, day: date | None = None,
                       run_id: str | None = None) -> list[str]:
    """Landing-relative paths of video files not loaded yet (late files in old folders included),
    oldest folder first. Files changed after their load are reported (audit + quarantine), not listed."""
    from supervision.warehouse import bootstrap

    bootstrap(warehouse_url)
    with connect(warehouse_url) as conn:
        return [lf.path for lf in pending_files(conn, Path(landing), SOURCE, SUFFIX, day, run_id)]


def load_video_file(landing: Path, warehouse_url: str, run_id: str, path: str) -> dict[str, Any]:
    """Load one landing file (``path`` relative to ``landing``) in one transaction.

    Returns its counts and status. Never raises for a bad file: a file that cannot be read is
    recorded (manifest 'failed', audit, quarantine) and the caller moves on to the next one."""
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


# --- the day's partition ----------------------------------------------------------------------

def partition_name(day: date) -> str:
    return f"raw_video.events_p{day:%Y%m%d}"


def _target_for(conn: Any, day: date) -> str:
    """The table a file of ``day`` is inserted into: the day's partition, made if missing.

    Runs in its own short transaction (committed before the file's load starts), so the parent's
    lock taken by CREATE ... PARTITION OF is held for milliseconds, never across a file's load.
    Falls back to the parent table (which routes the rows) when the table is not partitioned (an
    older warehouse) or when this role may not create tables (e.g. a loader role without DDL).
    Not cached across files: one catalogue lookup per file, and a dropped partition is remade."""
    import psycopg

    target = partition_name(day)
    try:
        kind = conn.execute("select relkind from pg_class where oid = %s::regclass", (PARENT,)).fetchone()[0]
        if kind != "p":
            target = PARENT
        elif conn.execute("select to_regclass(%s)", (target,)).fetchone()[0] is None:
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (_PARTITION_LOCK,))
            if conn.execute("select to_regclass(%s)", (target,)).fetchone()[0] is None:
                _create_partition(conn, day, target)
        conn.commit()
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        log.warning("no right to create %s: loading through %s (its default partition)", target, PARENT)
        target = PARENT
    return target


def _create_partition(conn: Any, day: date, target: str) -> None:
    """Make the day's partition; rows of that day already in the DEFAULT partition (which would
    make the CREATE fail) are moved into it in the same transaction."""
    bounds = f"for values from ('{day.isoformat()}') to ('{(day + timedelta(days=1)).isoformat()}')"
    has_default = conn.execute("select to_regclass(%s)", (DEFAULT_PARTITION,)).fetchone()[0] is not None
    moved = has_default and conn.execute(
        f"select exists (select 1 from {DEFAULT_PARTITION} where local_date = %s)", (day,)).fetchone()[0]
    if moved:
        conn.execute(f"create temp table _video_moving on commit drop as"
                     f" with m as (delete from {DEFAULT_PARTITION} where local_date = %s returning *)"
                     f" select * from m", (day,))
    conn.execute(f"create table if not exists {target} partition of {PARENT} {bounds}")
    if moved:
        conn.execute(f"insert into {target} select * from _video_moving")
        conn.execute("drop table _video_moving")
    log.info("created partition %s%s", target, " (rows moved from the default partition)" if moved else "")


# --- loading a file ---------------------------------------------------------------------------

def _load_file(conn: Any, landing: Path, lf: LandingFile, run_id: str, started: datetime) -> dict[str, Any]:
    target = _target_for(conn, lf.local_date)
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
    bad: list[Quarantined] = []
    reading = _FileReading()
    with conn.cursor() as cur:
        cur.execute(_STAGE_DDL)
        with cur.copy(f"copy _video_stage ({', '.join(STAGE_COLUMNS)}) from stdin (format binary)") as cp:
            cp.set_types(list(STAGE_TYPES))
            write = cp.write_row
            decode = _decode_event
            row_of = _row_of
            failed = (msgspec.DecodeError, msgspec.ValidationError)
            for line_no, line in _gzip_lines(landing / lf.path, reading):
                try:
                    row = row_of(decode(line), line_no)
                except failed:
                    row = None
                if row is None:
                    if not line.strip():
                        counts.skipped += 1
                        continue
                    try:
                        row = (*_slow_row(line), line_no)
                    except _Bad as b:
                        bad.append(Quarantined(str(line_no), b.reason, b.detail, _raw(line)))
                        continue
                write(row)
        staged = cur.rowcount if cur.rowcount and cur.rowcount > 0 else None
        if reading.damage is not None:
            bad.append(reading.damage)
        cur.execute(_MERGE.format(target=target), {"day": lf.local_date, "file_id": file_id})
        inserted = cur.rowcount
        if staged is None:
            staged = cur.execute("select count(*) from _video_stage").fetchone()[0]
        # no TRUNCATE: the stage is emptied at commit (ON COMMIT DELETE ROWS), a second one costs a
        # file's worth of time on a small file
    counts.loaded = inserted
    counts.duplicates = staged - inserted
    counts.quarantined = write_quarantine(conn, SOURCE, lf.path, bad, run_id)
    counts.received = counts.loaded + counts.duplicates + counts.quarantined + counts.skipped
    status = "failed" if reading.unreadable else "loaded"
    message = reading.damage.detail if reading.damage else None
    conn.execute("update ops.file_manifest set sha256 = %s, size_bytes = %s where file_id = %s",
                 (reading.hash.hexdigest(), reading.size, file_id))
    finish_file(conn, file_id, counts, status, message)
    write_audit(conn, run_id=run_id, source=SOURCE, obj=lf.path, started_at=started, counts=counts,
                status="failed" if reading.unreadable else "ok", message=message)
    conn.commit()
    return {"path": lf.path, "status": status, "file_id": file_id, **counts.as_dict()}


def load_video_files(landing: Path, warehouse_url: str, run_id: str, paths: Sequence[str],
                     workers: int | None = None) -> dict[str, Any]:
    """Load a batch of files, spread over ``workers`` processes (default: one per core, at most 2
    on these machines); returns totals and the per-file results.

    Workers are plain ``python -m supervision.ingest.video`` subprocesses rather than a
    multiprocessing pool: fork is unsafe in a threaded caller (an Airflow task), and spawn
    re-imports the caller's ``__main__``, which breaks any script without a main guard."""
    paths = list(paths)
    workers = max(1, min(workers or min(cpu_count(), 2), len(paths) or 1))
    if workers == 1:
        return summarise([load_video_file(landing, warehouse_url, run_id, p) for p in paths])
    import subprocess

    procs = []
    for batch in batches_for_mapping(paths, landing, workers):
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


def _worker_main() -> None:
    job = json.load(sys.stdin)
    results = [load_video_file(Path(job["landing"]), job["warehouse_url"], job["run_id"], p)
               for p in job["paths"]]
    sys.stdout.write(json.dumps(results) + "\n")


def summarise(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    total = Counts()
    for r in results:
        total.add(Counts(**{k: r.get(k, 0) for k in Counts().as_dict()}))
    failed = [r["path"] for r in results if r.get("status") == "failed"]
    return {"files": len(results), "failed_files": failed, **total.as_dict(), "results": list(results)}


def load_video(landing: Path, warehouse_url: str, run_id: str, day: date | None = None,
               workers: int | None = None) -> dict[str, Any]:
    """Load every video file not loaded yet (folders up to ``day``, all when None). Idempotent."""
    paths = list_pending_files(landing, warehouse_url, day, run_id)
    summary = load_video_files(landing, warehouse_url, run_id, paths, workers)
    log.info("video: %s", json.dumps({k: v for k, v in summary.items() if k != "results"}))
    return summary


def batches_for_mapping(paths: Sequence[str], landing: Path, n: int | None = None) -> list[list[str]]:
    """Split pending files into ``n`` batches of similar total size, one mapped task each."""
    landing = Path(landing)
    n = n or min(cpu_count(), 2)
    sized = sorted(paths, key=lambda p: -(landing / p).stat().st_size)
    return chunked(sized, n)


if __name__ == "__main__":
    _worker_main()

__all__ = ["batches_for_mapping", "list_landing_files", "list_pending_files", "load_video",
           "load_video_file", "load_video_files", "partition_name", "summarise"]
