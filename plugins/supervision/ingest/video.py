"""Video monitoring platform: ``<landing>/video/date=YYYY-MM-DD/*.jsonl.gz`` into ``raw_video.events``.

``raw_video.events`` is partitioned by ``local_date``, one partition per day (see warehouse.sql).
Events are deduplicated on (event_id, local_date): the contract puts every delivery of an event in
the same ``date=`` folder, so a file's load touches one day's rows only and costs the same whatever
the history holds. Every file is loaded once (``ops.file_manifest``, by landing-relative path, with
size and SHA-256); a file that cannot be read is recorded and never stops the others.

A load has three steps (``load_video`` runs them; the DAG runs them as tasks):

1. ``plan_load``: lists the pending files (late files in old folders included). A day that has no
   partition yet (the normal case: today's files) is loaded in **bulk**: an unattached table
   ``raw_video.events_load_pYYYYMMDD`` is made for it, without indexes. Leftovers of an interrupted
   load (such a table still there) are finished first.
2. ``load_video_files`` (one worker per core: threads with the native parser, processes with the
   Python one): each file in one transaction. A bulk day's file is COPYed straight into the day's
   load table (manifest status ``staged``), its event ids into ``ops.video_staged_ids``. A file of a day that
   already has its partition (a late file, a re-delivery) is merged into it: binary COPY into a
   temporary table, then ``INSERT ... ON CONFLICT DO NOTHING`` (first delivery wins).
3. ``finish_load``: per bulk day, in one transaction: duplicates removed (the first delivery wins:
   file path order, then line; the repeated ids found from the stored ids), the primary key and the (camera_id, ts) index built once (instead
   of row by row), the table attached as the day's partition (no scan: a CHECK constraint proves
   the bound), manifest rows set ``loaded`` with their duplicate counts, one audit row per file.
   Until then the day's rows are invisible to readers (write, then publish).

Measured (bench/bench_ingest.py): keeping two indexes up to date row by row while merging a
staged copy cost ~9.5 us per event, 5x the rest of the load; the bulk path removes it.

A crash leaves either a file pending (its transaction rolled back) or a load table with staged
files, which the next ``plan_load`` attaches; a rerun changes nothing. Locks: a bulk worker holds
the day's advisory lock shared, ``finish_load`` exclusively, so a file is never COPYed into a
table being attached. If some other writer made the day's partition meanwhile (a direct call of
``load_video_file``), ``finish_load`` merges the load table into it instead. Readers (dbt, GX, the
review app) use the parent table only.

Speed: the file is read once (checksum and decompression in the same pass, with ISA-L's zlib-compatible inflate directly so
that a truncated member keeps every line decoded before it); runs of complete lines are decoded
by msgspec in one call into typed structs validated in C (``decode_lines``); a run with a line that
fails goes line by line, and a line that fails goes through a slow path that names the reason.
Rows go to the server by binary COPY (the server parses no text); with the native fast path
(native/src/lib.rs), runs of lines become binary COPY tuples in Rust and only the lines it hands
back take the Python path.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from psycopg.adapt import PyFormat
from psycopg.types.numeric import DecimalBinaryDumper

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

try:  # ISA-L's inflate: the same API as zlib, measured 2.3x faster here (0.19 vs 0.44 us per event)
    from isal import isal_zlib as _inflate
except ImportError:  # pragma: no cover - a platform without isal wheels
    _inflate = zlib
_INFLATE_ERRORS = (zlib.error, _inflate.error)

SOURCE = "video"
SUFFIX = ".jsonl.gz"
TYPES = frozenset({"status", "headcount", "face"})
STATES = frozenset({"online", "offline", "occluded", "tampered"})
INT4_MAX = 2**31 - 1
_READ_BLOCK = 1 << 18  # compressed bytes a read (~1 MB of lines a run); 1 MB measured no different
_RAW_TEXT_MAX = 8000  # a quarantined line is kept whole up to this many characters
_PER_LINE = 64        # a failing run of at most this many lines is taken line by line


class _Event(msgspec.Struct, gc=False):
    """The fast path: a well-formed event decodes straight into this, validated in C (a timestamp
    without a UTC offset fails here too, and is then quarantined by the slow path)."""
    event_id: str  # checked and packed by _uuid_bytes (a uuid.UUID object costs ~0.7 us per event)
    camera_id: Annotated[str, msgspec.Meta(min_length=1)]
    ts: Annotated[datetime, msgspec.Meta(tz=True)]
    type: Literal["status", "headcount", "face"]
    state: Literal["online", "offline", "occluded", "tampered"] | None = None
    count: Annotated[int, msgspec.Meta(ge=0, le=INT4_MAX)] | None = None
    trainee_id: str | None = None
    score: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None


_decoder = msgspec.json.Decoder(_Event)
_decode_event = _decoder.decode
_decode_lines = _decoder.decode_lines
_decode_any = msgspec.json.Decoder().decode
_FAILED = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)  # msgspec raises the last on bytes that are not UTF-8

# A row as both paths write it: the file's events in COPY (binary) order. event_id travels as its
# 16 bytes: a binary COPY field carries no type, and uuid's binary form is exactly those bytes, so
# psycopg's (C) bytea dumper sends it and the server reads it as the uuid column it goes into.
ROW_COLUMNS = ("event_id", "camera_id", "ts", "type", "state", "count", "trainee_id", "score", "line_no",
               "file_id")
ROW_TYPES = ("bytea", "text", "timestamptz", "text", "text", "int4", "text", "numeric", "int4", "int8")
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
PARENT = "raw_video.events"
DEFAULT_PARTITION = "raw_video.events_default"
_PARTITION_LOCK = "video:partitions"


class _Bad(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _score(x: float) -> Decimal:
    # numeric in the warehouse: the shortest decimal that reads back as the same float (repr),
    # without a trailing ".0" (1 and 1.0 in the file are both stored as 1)
    r = repr(x)
    return Decimal(r[:-2] if r.endswith(".0") else r)


def _uuid_bytes(text: str) -> bytes | None:
    """The 16 bytes of a UUID written as 32 hex digits with or without dashes (what the fast path
    takes; other forms ``uuid.UUID`` reads, e.g. in braces, go the slow way), else None."""
    h = text.replace("-", "")
    if len(h) != 32:
        return None
    try:
        b = bytes.fromhex(h)
    except ValueError:
        return None
    return b if len(b) == 16 else None


def _row_of(e: _Event, line_no: int, file_id: int) -> tuple[Any, ...] | None:
    """The row of a fast-decoded event, or None when a rule the types cannot express fails."""
    t = e.type
    eid = _uuid_bytes(e.event_id)
    if eid is None or "\x00" in e.camera_id:
        return None
    if t == "headcount":
        if e.count is None:
            return None
        return (eid, e.camera_id, e.ts, t, None, e.count, None, None, line_no, file_id)
    if t == "status":
        if e.state is None:
            return None
        return (eid, e.camera_id, e.ts, t, e.state, None, None, None, line_no, file_id)
    if e.score is None or (e.trainee_id is not None and "\x00" in e.trainee_id):
        return None
    return (eid, e.camera_id, e.ts, t, None, None, e.trainee_id, _score(e.score), line_no, file_id)


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
        event_id = uuid.UUID(eid).bytes
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
    return (event_id, camera_id, ts, t, None, None, trainee_id, _score(float(score)))


# --- reading a gzip file ----------------------------------------------------------------------

@dataclass
class _FileReading:
    """What reading one file found besides its lines: checksum, size and any stream damage."""
    hash: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    damage: Quarantined | None = None
    unreadable: bool = False


def _gzip_chunks(path: Path, reading: _FileReading) -> Iterator[tuple[int, bytes]]:
    """(number of its first line, run of complete lines joined by b"\\n") of a gzip file,
    streaming, multi-member aware; a run is what one read block decompresses to.

    Damage (truncation, corrupt data, garbage after the last member) ends the iteration and is
    recorded in ``reading.damage``; every complete line decoded before it has been yielded."""
    d = _inflate.decompressobj(wbits=31)
    in_member = False  # fed input that has not reached its end marker yet
    pending = b""      # the incomplete last line so far
    line_no = 0        # lines yielded so far
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
                        buf = pending + out if pending else out
                        cut = buf.rfind(b"\n")
                        if cut < 0:
                            pending = buf
                        else:
                            run, pending = buf[:cut], buf[cut + 1:]
                            first = line_no + 1
                            line_no += _count_newlines(run) + 1
                            yield first, run
                    if not d.eof:
                        break
                    in_member = False
                    data = d.unused_data
                    d = _inflate.decompressobj(wbits=31)
                    if data[:2] != b"\x1f\x8b" and data.strip(b"\x00"):
                        # zero padding after the last member is harmless; anything else is not gzip
                        raise zlib.error("data after a gzip member is not gzip")
                    if data[:2] != b"\x1f\x8b":
                        data = b""
            except _INFLATE_ERRORS as err:
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
        yield line_no + 1, pending


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _raw(line: bytes) -> str:
    return line[:_RAW_TEXT_MAX * 4].decode("utf-8", "replace")[:_RAW_TEXT_MAX]


def _line_handler(file_id: int, write: Callable[[tuple], Any], counts: Counts,
                  bad: list[Quarantined]) -> Callable[..., None]:
    """The line-by-line path: a line becomes a row handed to ``write``, a quarantine record in
    ``bad`` (with its reason, line number and raw text), or a blank line counted as skipped."""
    row_of = _row_of

    def one_line(line_no: int, line: bytes, event: _Event | None = None) -> None:
        row = None
        if event is None:
            try:
                event = _decode_event(line)
            except _FAILED:
                event = None
        if event is not None:
            row = row_of(event, line_no, file_id)
        if row is None:
            if not line.strip():
                counts.skipped += 1
                return
            try:
                row = (*_slow_row(line), line_no, file_id)
            except _Bad as b:
                bad.append(Quarantined(str(line_no), b.reason, b.detail, _raw(line)))
                return
        write(row)

    return one_line


def _parse_file(path: Path, reading: _FileReading, file_id: int, write: Callable[[tuple], Any],
                counts: Counts, bad: list[Quarantined]) -> None:
    """Every line of the file: a row handed to ``write``, a quarantine record in ``bad`` (with
    its reason, line number and raw text), or a blank line counted as skipped."""
    row_of = _row_of
    fromhex = bytes.fromhex
    one_line = _line_handler(file_id, write, counts, bad)

    def fast_run(first: int, run: bytes) -> None:
        """A run of lines decoded in one call; a run with a line that does not decode (or a blank
        line) is halved until the halves decode, down to _PER_LINE lines taken one by one: one
        bad line costs about two decodes of its run, not a run decoded line by line."""
        n = run.count(b"\n") + 1
        try:
            events = _decode_lines(run)
        except _FAILED:
            events = None
        if events is None or len(events) != n:  # (decode_lines drops blank lines)
            if n <= _PER_LINE:
                for i, line in enumerate(run.split(b"\n")):
                    one_line(first + i, line)
                return
            cut = run.find(b"\n", len(run) // 2)
            if cut < 0:
                cut = run.rfind(b"\n")
            fast_run(first, run[:cut])
            fast_run(first + run.count(b"\n", 0, cut) + 1, run[cut + 1:])
            return
        lines = None
        line_no = first
        for e in events:  # _row_of inlined for its two common types (the hot loop)
            t = e.type
            cam = e.camera_id
            h = e.event_id.replace("-", "")
            try:
                eid = fromhex(h) if len(h) == 32 else None
            except ValueError:
                eid = None
            if eid is None or len(eid) != 16 or "\x00" in cam:
                eid = None
            if eid is not None and t == "headcount" and e.count is not None:
                write((eid, cam, e.ts, t, None, e.count, None, None, line_no, file_id))
            elif eid is not None and t == "status" and e.state is not None:
                write((eid, cam, e.ts, t, e.state, None, None, None, line_no, file_id))
            else:
                row = row_of(e, line_no, file_id)
                if row is None:  # a rule the types cannot express: this line the slow way
                    lines = lines or run.split(b"\n")
                    one_line(line_no, lines[line_no - first], e)
                else:
                    write(row)
            line_no += 1

    for first, run in _gzip_chunks(path, reading):
        fast_run(first, run)


def _parse_file_native(path: Path, reading: _FileReading, file_id: int, write: Callable[[bytes], Any],
                       counts: Counts, bad: list[Quarantined], write_ids: Callable[[bytes], Any]) -> None:
    """As _parse_file, through the native fast path: each run of lines becomes binary COPY tuples
    in one call; the lines it hands back take the line-by-line path (rows packed by _copy_binary).
    ``write`` receives the whole binary COPY stream: header, tuples, trailer; ``write_ids`` the
    event id (16 bytes) of every row."""
    def python_row(row: tuple[Any, ...]) -> None:
        write(_copy_binary(row))
        write_ids(row[0])

    one_line = _line_handler(file_id, python_row, counts, bad)
    convert = _NATIVE.convert  # type: ignore[union-attr]
    write(_COPY_HEADER)
    for first, run in _gzip_chunks(path, reading):
        for k, start, end in convert(run, first, file_id, write, write_ids):
            one_line(first + k, run[start:end])
    write(_COPY_TRAILER)


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_COPY_TRAILER = b"\xff\xff"
_NULL = struct.pack(">i", -1)
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_numeric_binary = DecimalBinaryDumper(Decimal).dump


def _sized(b: bytes) -> bytes:
    return struct.pack(">i", len(b)) + b


def _copy_binary(row: tuple[Any, ...]) -> bytes:
    """A row of the line-by-line path as a binary COPY tuple (the native path's format)."""
    eid, camera_id, ts, t, state, count, trainee_id, score, line_no, file_id = row
    return b"".join((
        struct.pack(">h", 10), _sized(eid), _sized(camera_id.encode()),
        struct.pack(">iq", 8, (ts - _PG_EPOCH) // _MICROSECOND), _sized(t.encode()),
        _NULL if state is None else _sized(state.encode()),
        _NULL if count is None else struct.pack(">ii", 4, count),
        _NULL if trainee_id is None else _sized(trainee_id.encode()),
        _NULL if score is None else _sized(bytes(_numeric_binary(score))),
        struct.pack(">iiiq", 4, line_no, 8, file_id)))


class _Native:
    """The Rust fast path (native/src/lib.rs, built by ``make env``), through ctypes: ``convert``
    turns a run of lines into binary COPY tuples and names the lines it did not take;
    ``repeated`` finds the ids that occur more than once. The GIL is released during the calls."""

    VERSION = 6  # of the Result layout, the row format and the functions (lib.rs fv_version)

    def __init__(self, path: Path):
        import ctypes

        class Result(ctypes.Structure):
            _fields_ = [("out_ptr", ctypes.c_void_p), ("out_len", ctypes.c_size_t), ("out_cap", ctypes.c_size_t),
                        ("rej_ptr", ctypes.c_void_p), ("rej_len", ctypes.c_size_t), ("rej_cap", ctypes.c_size_t),
                        ("ids_ptr", ctypes.c_void_p), ("ids_len", ctypes.c_size_t), ("ids_cap", ctypes.c_size_t)]

        lib = ctypes.CDLL(str(path))
        lib.fv_version.restype = ctypes.c_uint32
        if lib.fv_version() != self.VERSION:
            raise ImportError(f"{path}: row format {lib.fv_version()}, expected {self.VERSION}: rebuild it (make env)")
        lib.fv_convert.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int64, ctypes.c_int64,
                                   ctypes.POINTER(Result)]
        lib.fv_convert.restype = None
        lib.fv_repeated.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(Result)]
        lib.fv_repeated.restype = None
        lib.fv_count_newlines.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        lib.fv_count_newlines.restype = ctypes.c_size_t
        lib.fv_free.argtypes = [ctypes.POINTER(Result)]
        lib.fv_free.restype = None
        self._lib, self._ctypes, self._result = lib, ctypes, Result

    def convert(self, run: bytes, first_line: int, file_id: int, write: Callable[[memoryview], Any],
                write_ids: Callable[[memoryview], Any]) -> list[tuple[int, int, int]]:
        """Hands the run's tuples to ``write`` and their event ids (16 bytes each) to ``write_ids``
        (views of the native buffers, valid during the call: no copy) and returns the lines not
        taken as (index in the run, start, end offsets)."""
        ct = self._ctypes
        res = self._result()
        self._lib.fv_convert(run, len(run), first_line, file_id, ct.byref(res))
        try:
            if res.out_len:
                write(memoryview((ct.c_char * res.out_len).from_address(res.out_ptr)).cast("B"))
                write_ids(memoryview((ct.c_char * res.ids_len).from_address(res.ids_ptr)).cast("B"))
            flat = list((ct.c_uint32 * res.rej_len).from_address(res.rej_ptr)) if res.rej_len else []
        finally:
            self._lib.fv_free(ct.byref(res))
        return list(zip(flat[0::3], flat[1::3], flat[2::3], strict=True))

    def count_newlines(self, run: bytes) -> int:
        return self._lib.fv_count_newlines(run, len(run))

    def repeated(self, ids: bytes) -> bytes:
        """The 16-byte ids that occur more than once in ``ids`` (16 bytes each), each once."""
        ct = self._ctypes
        res = self._result()
        self._lib.fv_repeated(ids, len(ids), ct.byref(res))
        try:
            return ct.string_at(res.out_ptr, res.out_len) if res.out_len else b""
        finally:
            self._lib.fv_free(ct.byref(res))


NATIVE_LIBRARY = Path(__file__).with_name("native") / "target" / "release" / "libsupervision_video.so"


def _load_native() -> _Native | None:
    """The fast path when it is built and not switched off (SUPERVISION_VIDEO_NATIVE=0); else
    None, and the loader parses in Python (same rows, more CPU per event)."""
    if os.environ.get("SUPERVISION_VIDEO_NATIVE", "1") == "0" or not NATIVE_LIBRARY.exists():
        return None
    try:
        return _Native(NATIVE_LIBRARY)
    except (OSError, ImportError) as err:
        log.warning("video native fast path not used: %s", err)
        return None


_NATIVE = _load_native()


def _count_newlines(run: bytes) -> int:
    return _NATIVE.count_newlines(run) if _NATIVE is not None else run.count(b"\n")


# --- partitions and bulk load tables ----------------------------------------------------------

def partition_name(day: date) -> str:
    return f"raw_video.events_p{day:%Y%m%d}"


def load_table_name(day: date) -> str:
    """The unattached table a bulk day is COPYed into before it becomes the day's partition."""
    return f"raw_video.events_load_p{day:%Y%m%d}"


def _day_lock(day: date) -> str:
    return f"video:day:{day.isoformat()}"


def _exists(conn: Any, name: str) -> bool:
    """Whether the table ``schema.name`` exists, as committed when this statement starts.

    A query of pg_class, not to_regclass: that reads the session's catalog cache, which in a
    transaction begun before another one renamed the table (an attach, while this one waited on
    the day's lock) can still name the old table."""
    schema, rel = name.split(".", 1)
    return conn.execute("select exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                        " where n.nspname = %s and c.relname = %s)", (schema, rel)).fetchone()[0]


def _is_partitioned(conn: Any) -> bool:
    return conn.execute("select relkind from pg_class where oid = %s::regclass", (PARENT,)).fetchone()[0] == "p"


def _target_for(conn: Any, day: date) -> str:
    """The table a merged file of ``day`` is inserted into: the day's partition, made if missing.

    Runs in its own short transaction (committed before the file's load starts), so the parent's
    lock taken by CREATE ... PARTITION OF is held for milliseconds, never across a file's load.
    Falls back to the parent table (which routes the rows) when the table is not partitioned (an
    older warehouse) or when this role may not create tables (e.g. a loader role without DDL).
    Not cached across files: one catalogue lookup per file, and a dropped partition is remade."""
    import psycopg

    target = partition_name(day)
    try:
        if not _is_partitioned(conn):
            target = PARENT
        elif not _exists(conn, target):
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (_PARTITION_LOCK,))
            if not _exists(conn, target):
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
    moved = _default_has_day(conn, day)
    if moved:
        conn.execute(f"create temp table _video_moving on commit drop as"
                     f" with m as (delete from {DEFAULT_PARTITION} where local_date = %s returning *)"
                     f" select * from m", (day,))
    conn.execute(f"create table if not exists {target} partition of {PARENT} {bounds}")
    if moved:
        conn.execute(f"insert into {target} select * from _video_moving")
        conn.execute("drop table _video_moving")
    log.info("created partition %s%s", target, " (rows moved from the default partition)" if moved else "")


def _default_has_day(conn: Any, day: date) -> bool:
    return _exists(conn, DEFAULT_PARTITION) and conn.execute(
        f"select exists (select 1 from {DEFAULT_PARTITION} where local_date = %s)", (day,)).fetchone()[0]


def _prepare_bulk_day(conn: Any, day: date) -> bool:
    """Make ``day``'s load table when the day can be loaded in bulk: the table is partitioned, the
    day has no partition and no rows in the default partition, and this role may create tables.
    Commits. True when the day's load table exists afterwards."""
    import psycopg

    table = load_table_name(day)
    try:
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (_day_lock(day),))
        if _exists(conn, table):
            conn.commit()
            return True
        if not _is_partitioned(conn) or _exists(conn, partition_name(day)) or _default_has_day(conn, day):
            conn.rollback()
            return False
        # the day's partition-to-be: no index (built once by finish_load), a CHECK constraint that
        # proves the partition bound (ATTACH then skips its validation scan)
        conn.execute(f"create table {table} (like {PARENT} including defaults including constraints)")
        conn.execute(f"alter table {table} alter column local_date set default '{day.isoformat()}'")
        conn.execute(f"alter table {table} add constraint events_load_bounds check (local_date = '{day.isoformat()}')")
        conn.commit()
        return True
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        log.warning("no right to create %s: %s is loaded file by file", table, day)
        return False


def _key_columns(conn: Any) -> str:
    """The parent's primary key columns, in order: a partition's key must match the parent's to be
    attached without a second index build ((event_id, local_date) in a warehouse bootstrapped now,
    (local_date, event_id) in one bootstrapped before the order changed)."""
    return conn.execute(
        "select string_agg(quote_ident(a.attname), ', ' order by k.ord)"
        " from pg_constraint c cross join unnest(c.conkey) with ordinality k(attnum, ord)"
        " join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum"
        " where c.conrelid = %s::regclass and c.contype = 'p'", (PARENT,)).fetchone()[0]


def _load_tables(conn: Any) -> list[date]:
    """Days that have a load table (bulk loads staged and not attached yet)."""
    rows = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'raw_video' and c.relkind = 'r' and c.relname ~ '^events_load_p[0-9]{8}$'"
        " order by 1").fetchall()
    return [datetime.strptime(r[0][-8:], "%Y%m%d").date() for r in rows]


# --- loading a file ---------------------------------------------------------------------------

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
    if _exists(conn, load_table_name(day)):
        # shared: many files of the day at once; finish_load takes it exclusively to attach
        conn.execute("select pg_advisory_xact_lock_shared(hashtext(%s))", (_day_lock(day),))
        if _exists(conn, load_table_name(day)):
            bulk = load_table_name(day)
        else:  # attached meanwhile
            conn.rollback()
    target = bulk or _target_for(conn, day)
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
        if bulk is None:
            cur.execute(_STAGE_DDL)
        into = bulk or "_video_stage"
        ids = None
        if _NATIVE is not None:  # binary COPY tuples made by the native fast path
            # a bulk day's event ids, for its attach (ops.video_staged_ids): spooled to disk
            # beyond 16 MB, so that memory stays flat however large the file
            ids = tempfile.SpooledTemporaryFile(max_size=_IDS_PART) if bulk else None
            with cur.copy(f"copy {into} ({', '.join(ROW_COLUMNS)}) from stdin (format binary)") as cp:
                _parse_file_native(landing / lf.path, reading, file_id, cp.write, counts, bad,
                                   ids.write if ids is not None else _discard)
        else:
            # by oid, bytea's binary dumper is psycopg's DB-API one (Python, ~0.75 us a call); the
            # C one that bytes objects get by type is the same bytes on the wire
            cur.adapters.register_dumper(None, cur.adapters.get_dumper(bytes, PyFormat.BINARY))
            with cur.copy(f"copy {into} ({', '.join(ROW_COLUMNS)}) from stdin (format binary)") as cp:
                cp.set_types(list(ROW_TYPES))
                _parse_file(landing / lf.path, reading, file_id, cp.write_row, counts, bad)
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


def _staged_ids(conn: Any, table: str) -> bytes:
    """The event ids (16 bytes each) of the day's staged files (_video_files): as their loaders
    stored them, or, when a file has none stored (the Python parser, or a file staged by an older
    loader), aggregated from the load table (a scan of the day's rows)."""
    missing = conn.execute("select count(*) from _video_files f where not exists"
                           " (select 1 from ops.video_staged_ids s where s.file_id = f.file_id)").fetchone()[0]
    if missing:  # one bytea per file: a value is at most 1 GB
        query = f"select string_agg(uuid_send(event_id), ''::bytea) from {table} group by file_id"
    else:
        query = ("select s.event_ids from ops.video_staged_ids s join _video_files f using (file_id)"
                 " order by s.file_id, s.part")
    return b"".join(r[0] for r in conn.execute(query, binary=True) if r[0])


# --- attaching a bulk day ---------------------------------------------------------------------

def _repeated_ids(ids: bytes) -> bytes:
    """The 16-byte ids that occur more than once in ``ids``, each once (native: one sort; else a
    Python set)."""
    if _NATIVE is not None:
        return _NATIVE.repeated(ids)
    seen: set[bytes] = set()
    repeated: set[bytes] = set()
    for i in range(0, len(ids), 16):
        k = ids[i:i + 16]
        (repeated if k in seen else seen).add(k)
    return b"".join(sorted(repeated))


def _finish_day(conn: Any, day: date, run_id: str | None, parallel_builds: bool = True) -> dict[str, Any]:
    """Attach ``day``'s load table as its partition, in one transaction: duplicates out (first
    delivery wins: file path order, then line), indexes built once, manifest and audit rows.
    ``parallel_builds``: the server may build the indexes with parallel workers (off when other
    days are attached at the same time: then the cores are busy anyway, and a parallel sort
    costs more CPU in all; measured 0.15 s less for 3 days on 2 cores)."""
    table = load_table_name(day)
    steps: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:  # seconds of each step, logged and returned (bench_ingest prints them)
        now = time.perf_counter()
        steps[name] = round(steps.get(name, 0.0) + now - clock[0], 3)
        clock[0] = now

    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (_day_lock(day),))
    if not _exists(conn, table):
        conn.rollback()
        return {"day": day.isoformat(), "files": 0, "duplicates": 0}
    lap("lock")
    conn.execute(f"lock table {table} in access exclusive mode")
    conn.execute("create temp table _video_files on commit drop as"
                 " select file_id, path, rank() over (order by path) as delivery,"
                 "        run_id, loaded_at, received, loaded, quarantined, skipped, message"
                 " from ops.file_manifest where source = %s and local_date = %s and status = 'staged'",
                 (SOURCE, day))
    conn.execute("alter table _video_files add primary key (file_id)")
    conn.execute("analyze _video_files")
    conn.execute("set local work_mem = '256MB'")
    conn.execute("set local maintenance_work_mem = '1GB'")
    if not parallel_builds:
        conn.execute("set local max_parallel_maintenance_workers = 0")
    lap("files")
    partition = partition_name(day)
    if _exists(conn, partition):
        # some other writer made the day's partition meanwhile: merge into it, like a late file
        conn.execute(
            f"create temp table _video_dups on commit drop as"
            f" with staged as (select file_id, count(*) as n from {table} group by file_id),"
            f" ins as (insert into {partition} select l.* from {table} l join _video_files f using (file_id)"
            f"         order by l.event_id, f.delivery, l.line_no on conflict do nothing returning file_id),"
            f" kept as (select file_id, count(*) as n from ins group by file_id)"
            f" select staged.file_id, staged.n - coalesce(kept.n, 0) as dups"
            f" from staged left join kept using (file_id)")
        conn.execute(f"drop table {table}")
        lap("merge")
    else:
        # event ids delivered more than once: all but the first delivery go. The repeated ids are
        # found here from the day's ids, which the loaders stored (measured: a fraction of the
        # server's hash aggregate over the day's rows, 0.55 s per 750 k events)
        ids = _staged_ids(conn, table)
        repeated = _repeated_ids(ids)
        del ids
        lap("repeated_ids")
        conn.execute("create temp table _video_dup_ids (event_id uuid primary key) on commit drop")
        conn.execute("insert into _video_dup_ids select encode(substring(%(b)s from 16 * i + 1 for 16), 'hex')::uuid"
                     " from generate_series(0, %(n)s - 1) i", {"b": repeated, "n": len(repeated) // 16})
        conn.execute("analyze _video_dup_ids")
        conn.execute(
            f"create temp table _video_dups on commit drop as"
            # (materialized: the day's rows meet the few repeated ids first; the load table has no
            # statistics, and the planner otherwise joins every row to its file before the ids)
            f" with repeats as materialized (select l.ctid as row_ctid, l.event_id, l.file_id, l.line_no"
            f"                              from {table} l join _video_dup_ids using (event_id)),"
            f" ranked as (select r.row_ctid, row_number() over ("
            f"              partition by r.event_id order by f.delivery, r.line_no) as nth"
            f"            from repeats r join _video_files f using (file_id)),"
            f" gone as (delete from {table} l using ranked"
            f"          where ranked.nth > 1 and l.ctid = ranked.row_ctid returning l.file_id)"
            f" select file_id, count(*) as dups from gone group by file_id")
        lap("dedup")
        short = table.split(".", 1)[1]
        conn.execute(f"alter table {table} add constraint {short}_pkey primary key ({_key_columns(conn)})")
        lap("primary_key")
        conn.execute(f"create index {short}_camera_id_ts_idx on {table} (camera_id, ts)")
        lap("camera_index")
        # the heavy part above holds only the day's lock (days are attached in parallel); the
        # partitions' lock serialises the attach with a loader making a partition
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (_PARTITION_LOCK,))
        if _exists(conn, partition):  # made meanwhile: the next finish_load merges into it
            conn.rollback()
            log.warning("video %s: partition %s appeared while attaching; left staged", day, partition)
            return {"day": day.isoformat(), "files": 0, "duplicates": 0, "staged": True}
        conn.execute(f"alter table {table} alter column local_date drop default")
        conn.execute(f"alter table {table} rename to {partition.split('.', 1)[1]}")
        bounds = f"for values from ('{day.isoformat()}') to ('{(day + timedelta(days=1)).isoformat()}')"
        conn.execute(f"alter table {PARENT} attach partition {partition} {bounds}")
        conn.execute(f"alter table {partition} drop constraint events_load_bounds")
        lap("attach")
    conn.execute("delete from ops.video_staged_ids where file_id in (select file_id from _video_files)")
    # the staged files: final counts, status and audit rows
    files = conn.execute(
        "select f.file_id, f.path, f.run_id, f.loaded_at, f.received, f.loaded - coalesce(d.dups, 0),"
        "       coalesce(d.dups, 0), f.quarantined, f.skipped, f.message"
        " from _video_files f left join _video_dups d using (file_id) order by f.delivery").fetchall()
    total_dups = 0
    for file_id, path, file_run, staged_at, received, loaded, dups, quarantined, skipped, message in files:
        counts = Counts(received=received, loaded=loaded, duplicates=dups, quarantined=quarantined,
                        skipped=skipped or 0)
        finish_file(conn, file_id, counts, "loaded", message)
        write_audit(conn, run_id=file_run or run_id, source=SOURCE, obj=path, started_at=staged_at,
                    counts=counts, status="ok", message=message)
        total_dups += dups
    conn.commit()
    lap("audit_commit")
    log.info("video %s: %d files attached as %s, %d duplicates; seconds %s", day, len(files), partition,
             total_dups, steps)
    return {"day": day.isoformat(), "files": len(files), "duplicates": total_dups, "seconds": steps}


def finish_load(warehouse_url: str, run_id: str | None = None, workers: int | None = None) -> list[dict[str, Any]]:
    """Attach every staged bulk day (those of this run and any an interrupted run left); several
    days (a catch-up, an initial load) on ``workers`` connections at once (default: one per core,
    at most 2)."""
    from concurrent.futures import ThreadPoolExecutor

    with connect(warehouse_url) as conn:
        days = _load_tables(conn)
    workers = max(1, min(workers or min(cpu_count(), 2), len(days) or 1))

    def finish(day: date) -> dict[str, Any]:
        with connect(warehouse_url) as conn:
            return _finish_day(conn, day, run_id, parallel_builds=workers == 1)

    if workers == 1:
        return [finish(day) for day in days]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(finish, days))


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
            _prepare_bulk_day(conn, d)
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
    if _NATIVE is not None:
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


def _worker_main() -> None:
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


if __name__ == "__main__":
    _worker_main()

__all__ = ["batches_for_mapping", "finish_load", "list_landing_files", "list_pending_files", "load_table_name",
           "load_video", "load_video_file", "load_video_files", "partition_name", "plan_load", "summarise"]
