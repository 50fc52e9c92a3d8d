"""What the three loaders share: connections, COPY, quarantine, the load audit and the file manifest.

Every bulk write goes through PostgreSQL COPY (psycopg 3 ``cursor.copy`` + ``write_row``) into a
temporary table, and from there into the target with one set-based statement; nothing is
inserted row by row. Every record that arrives ends in exactly one of the audit's buckets:
loaded, duplicate (already there, or superseded by a newer version), quarantined (with reason,
origin and raw text) or skipped (blank lines).
"""
from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

_DATE_DIR = re.compile(r"date=(\d{4}-\d{2}-\d{2})")


# --- connections ------------------------------------------------------------------------------

def connect(url: str, temp_buffers: str | None = None) -> psycopg.Connection:
    """A warehouse connection for a loader (not autocommit: each load is one transaction).

    ``temp_buffers`` must be set before the session first touches a temporary table; the default
    (8 MB) makes a large staging table spill to disk."""
    import psycopg

    from supervision.config import libpq_url

    conn = psycopg.connect(libpq_url(url), application_name="supervision-ingest")
    if temp_buffers:
        conn.execute(f"set temp_buffers = '{temp_buffers}'")
        conn.commit()
    return conn


def copy_rows(cur: psycopg.Cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
              types: Sequence[str] | None = None) -> int:
    """COPY ``rows`` into ``table``; binary format when the column ``types`` are given (faster:
    the server parses no text). Returns the number of rows written."""
    cols = ", ".join(columns)
    n = 0
    if types is None:
        with cur.copy(f"copy {table} ({cols}) from stdin") as cp:
            for row in rows:
                cp.write_row(row)
                n += 1
        return n
    with cur.copy(f"copy {table} ({cols}) from stdin (format binary)") as cp:
        cp.set_types(list(types))
        for row in rows:
            cp.write_row(row)
            n += 1
    return n


# --- counts and audit -------------------------------------------------------------------------

@dataclass
class Counts:
    """What became of the records of one file or table pull; received = the sum of the rest."""
    received: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: int = 0

    def add(self, other: Counts) -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)

    def balanced(self) -> bool:
        return self.received == self.loaded + self.duplicates + self.quarantined + self.skipped

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def write_audit(conn: psycopg.Connection, *, run_id: str | None, source: str, obj: str,
                started_at: datetime, counts: Counts, status: str, message: str | None = None) -> None:
    conn.execute(
        "insert into ops.load_audit (run_id, source, object, started_at, finished_at, received, loaded,"
        " duplicates, quarantined, skipped, status, message)"
        " values (%s, %s, %s, %s, clock_timestamp(), %s, %s, %s, %s, %s, %s, %s)",
        (run_id, source, obj, started_at, counts.received, counts.loaded, counts.duplicates,
         counts.quarantined, counts.skipped, status, message))


def write_failure_audit(url: str, *, run_id: str | None, source: str, obj: str, started_at: datetime,
                        message: str) -> None:
    """Record a failed load on its own connection (the load's transaction was rolled back).
    Best effort: if the warehouse itself is down, the caller's exception says so already."""
    try:
        with connect(url) as conn:
            write_audit(conn, run_id=run_id, source=source, obj=obj, started_at=started_at,
                        counts=Counts(), status="failed", message=message[:2000])
            conn.commit()
    except Exception:  # noqa: BLE001 - never mask the original error with the audit's
        pass


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


# --- quarantine -------------------------------------------------------------------------------

@dataclass(frozen=True)
class BadRecord:
    """One record that was not loaded, as every loader reports it to :func:`write_quarantine`.

    ``locator`` says where it was (a line number, a key, ``file``); ``reason`` is a short code
    (``bad_ts``, ``enum:status``, ``too_few_columns``...), ``detail`` the sentence for a person.
    ``raw_text`` goes to ops.quarantine and must hold no plain personal data; ``pii_raw_text``
    (the record as received, when it holds personal data) goes to the restricted
    pii.quarantine_raw only."""
    locator: str
    reason: str
    detail: str | None = None
    raw_text: str | None = None
    pii_raw_text: str | None = None


class BadValue(Exception):
    """Raised by a loader's checks when a value breaks a rule; ``record`` makes the BadRecord."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def record(self, locator: str, raw_text: str | None = None, pii_raw_text: str | None = None) -> BadRecord:
        return BadRecord(locator, self.reason, self.detail, raw_text, pii_raw_text)


_QUARANTINE_STAGE = """
create temp table if not exists _quarantine_stage (
    locator text, reason text, detail text, raw_text text, pii_raw_text text) on commit delete rows
"""


def write_quarantine(conn: psycopg.Connection, source: str, obj: str, records: Sequence[BadRecord],
                     run_id: str | None) -> int:
    """Keep ``records`` in ops.quarantine (and their personal data in pii.quarantine_raw).

    Keyed on (source, object, locator, reason): quarantining the same record again (a re-read
    overlap window, a rerun) changes nothing unless its text changed."""
    if not records:
        return 0
    with conn.cursor() as cur:
        cur.execute(_QUARANTINE_STAGE)
        copy_rows(cur, "_quarantine_stage", ("locator", "reason", "detail", "raw_text", "pii_raw_text"),
                  ((r.locator, r.reason[:200], r.detail, _no_nul(r.raw_text), _no_nul(r.pii_raw_text))
                   for r in records))
        cur.execute(
            "insert into ops.quarantine as q (source, object, locator, reason, detail, raw_text, run_id)"
            " select distinct on (locator, reason) %s, %s, locator, reason, detail, raw_text, %s"
            " from _quarantine_stage order by locator, reason"
            " on conflict (source, object, locator, reason) do update"
            " set detail = excluded.detail, raw_text = excluded.raw_text, run_id = excluded.run_id,"
            "     quarantined_at = now()"
            " where (q.detail, q.raw_text) is distinct from (excluded.detail, excluded.raw_text)",
            (source, obj, run_id))
        cur.execute(
            "insert into pii.quarantine_raw as p (source, object, locator, raw_text)"
            " select distinct on (locator) %s, %s, locator, pii_raw_text from _quarantine_stage"
            " where pii_raw_text is not null order by locator"
            " on conflict (source, object, locator) do update set raw_text = excluded.raw_text"
            " where p.raw_text is distinct from excluded.raw_text",
            (source, obj))
        cur.execute("truncate _quarantine_stage")
    return len(records)


def _no_nul(text: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; a binary-garbage line must still be kept, so escape it.
    return text.replace("\x00", "\\x00") if text is not None and "\x00" in text else text


# --- landing files and the manifest -----------------------------------------------------------

@dataclass(frozen=True)
class LandingFile:
    path: str            # relative to the landing folder, with '/' separators: the manifest's key
    local_date: date     # from the date=YYYY-MM-DD folder
    size: int


def list_landing_files(landing: Path, source: str, suffix: str, day: date | None = None) -> list[LandingFile]:
    """Files ``<landing>/<source>/date=YYYY-MM-DD/*<suffix>``, oldest folder first, then by name.

    ``day`` bounds the folders (date <= day) so that a run for day D is a function of what had
    arrived for days up to D; late files in older folders are always included."""
    root = landing / source
    out: list[LandingFile] = []
    if not root.is_dir():
        return out
    for folder in sorted(root.iterdir()):
        m = _DATE_DIR.fullmatch(folder.name)
        if not m or not folder.is_dir():
            continue
        try:
            local = date.fromisoformat(m.group(1))
        except ValueError:
            continue
        if day is not None and local > day:
            continue
        for f in sorted(folder.iterdir()):
            if f.name.endswith(suffix) and f.is_file() and not f.name.startswith("."):
                out.append(LandingFile(f.relative_to(landing).as_posix(), local, f.stat().st_size))
    return out


@dataclass
class ManifestEntry:
    file_id: int
    size_bytes: int
    sha256: str
    status: str
    loaded_at: datetime


def manifest_entries(conn: psycopg.Connection, source: str) -> dict[str, ManifestEntry]:
    rows = conn.execute(
        "select path, file_id, size_bytes, sha256, status, loaded_at from ops.file_manifest where source = %s",
        (source,)).fetchall()
    return {r[0]: ManifestEntry(*r[1:]) for r in rows}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pending_files(conn: psycopg.Connection, landing: Path, source: str, suffix: str, day: date | None,
                  run_id: str | None) -> list[LandingFile]:
    """Landing files not in the manifest yet. A file already loaded whose content changed since
    (contract: files are never rewritten) is reported once, as a failed audit row plus a
    quarantine record keyed on its new checksum, and is not reloaded."""
    known = manifest_entries(conn, source)
    pending: list[LandingFile] = []
    for lf in list_landing_files(landing, source, suffix, day):
        entry = known.get(lf.path)
        if entry is None:
            pending.append(lf)
            continue
        full = landing / lf.path
        # Only a size change or a write after the load can mean new content: re-hashing every
        # loaded file on every run would cost a full read of the landing area.
        if lf.size == entry.size_bytes and full.stat().st_mtime <= entry.loaded_at.timestamp():
            continue
        digest = sha256_of(full)
        if digest != entry.sha256:
            _report_changed_file(conn, source, lf, entry, digest, run_id)
    return pending


def _report_changed_file(conn: psycopg.Connection, source: str, lf: LandingFile, entry: ManifestEntry,
                         digest: str, run_id: str | None) -> None:
    started = now_utc()
    detail = (f"file changed after it was loaded (file_id {entry.file_id}): size {entry.size_bytes} -> {lf.size},"
              f" sha256 {entry.sha256[:12]}… -> {digest[:12]}…; not reloaded")
    new = conn.execute(
        "insert into ops.quarantine (source, object, locator, reason, detail, run_id)"
        " values (%s, %s, %s, 'changed_file', %s, %s) on conflict do nothing returning quarantine_id",
        (source, lf.path, "sha256:" + digest, detail, run_id)).fetchone()
    if new:  # report each distinct new content once, not on every run
        write_audit(conn, run_id=run_id, source=source, obj=lf.path, started_at=started, counts=Counts(),
                    status="failed", message=detail)
    conn.commit()


def register_file(conn: psycopg.Connection, source: str, lf: LandingFile, sha256: str, run_id: str | None,
                  status: str = "loading") -> int | None:
    """Insert the manifest row (inside the load's transaction) and return its file_id, or None if
    another worker registered the same path first (it then owns the load)."""
    row = conn.execute(
        "insert into ops.file_manifest (source, path, local_date, size_bytes, sha256, status, run_id)"
        " values (%s, %s, %s, %s, %s, %s, %s) on conflict (path) do nothing returning file_id",
        (source, lf.path, lf.local_date, lf.size, sha256, status, run_id)).fetchone()
    return None if row is None else int(row[0])


def finish_file(conn: psycopg.Connection, file_id: int, counts: Counts, status: str, message: str | None) -> None:
    conn.execute(
        "update ops.file_manifest set status = %s, received = %s, loaded = %s, duplicates = %s,"
        " quarantined = %s, skipped = %s, message = %s, loaded_at = clock_timestamp() where file_id = %s",
        (status, counts.received, counts.loaded, counts.duplicates, counts.quarantined, counts.skipped,
         message, file_id))


class HashingReader(io.RawIOBase):
    """A read-only stream over a file that computes its SHA-256 and size as it is read, so that a
    file is read from disk once for both its checksum and its content."""

    def __init__(self, path: Path):
        self._f = path.open("rb", buffering=0)
        self.hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._f.readinto(b)
        if n:
            self.hash.update(memoryview(b)[:n])
            self.size += n
        return n or 0

    def drain(self) -> None:
        """Read (and hash) whatever the consumer left unread, e.g. after a decompression error."""
        while True:
            block = self._f.read(1 << 20)
            if not block:
                return
            self.hash.update(block)
            self.size += len(block)

    def close(self) -> None:
        self._f.close()
        super().close()


def chunked(items: Sequence[Any], n: int) -> list[list[Any]]:
    """Split ``items`` into at most ``n`` batches of near-equal total size (for task mapping)."""
    n = max(1, min(n, len(items)))
    batches: list[list[Any]] = [[] for _ in range(n)]
    for i, item in enumerate(items):
        batches[i % n].append(item)
    return [b for b in batches if b]


def iter_batches(it: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for x in it:
        batch.append(x)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


__all__ = [
    "BadRecord", "BadValue", "Counts", "HashingReader", "LandingFile", "ManifestEntry", "chunked", "connect",
    "copy_rows", "cpu_count", "finish_file", "iter_batches", "list_landing_files", "manifest_entries",
    "now_utc", "pending_files", "register_file", "sha256_of", "write_audit", "write_failure_audit",
    "write_quarantine",
]
