"""Training platform database → ``raw_training.*`` (and ``pii.trainees``), incrementally by updated_at.

Per table, in one warehouse transaction:

1. read the source rows with ``updated_at >= high-water mark - overlap`` (SQLAlchemy Core only,
   streamed with ``yield_per``): the overlap re-reads rows committed late with an older
   updated_at; re-read rows that did not change are counted as duplicates and written nowhere;
2. check the documented enums; a row outside them goes to ``ops.quarantine`` (reason
   ``enum:<column>``, locator = its key) instead of raw. Dangling foreign keys are loaded (rules
   such as UNREGISTERED_SITE need them) and counted in the audit message;
3. COPY the good rows into a temporary table, keep every version in ``*_history`` for the tables
   supervision needs history of, and merge into the target: the largest updated_at wins, an equal
   updated_at only replaces a row whose content differs (so a rerun writes nothing);
4. move the high-water mark (``ops.watermarks``) and write the ``ops.load_audit`` row.

A source that cannot be reached raises :class:`SourceUnavailable` after a failed audit row; the
DAG's retries (exponential backoff) take it from there.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from supervision.ingest.common import (
    BadRecord,
    BadValue,
    Counts,
    connect,
    copy_rows,
    now_utc,
    write_audit,
    write_failure_audit,
    write_quarantine,
)

log = logging.getLogger(__name__)

SOURCE = "training"
BATCH_ROWS = 20_000


class SourceUnavailable(RuntimeError):
    """The training platform database could not be reached or read; retry later."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]                     # as in training_platform.sql, in order
    enums: dict[str, frozenset[Any]] = field(default_factory=dict)
    references: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (table, column)
    history: bool = False


def _e(*values: Any) -> frozenset[Any]:
    return frozenset(values)


# Order matters for pull_training_platform: parents before children, so that the dangling-reference
# counts of a full pull are about the source, not about load order.
TABLES: tuple[TableSpec, ...] = (
    TableSpec("occupations", ("occupation_code",),
              ("occupation_code", "name", "category", "is_urgent", "updated_at"),
              {"category": _e("manufacturing", "digital", "life_service", "construction", "other")}),
    TableSpec("institutions", ("institution_id",),
              ("institution_id", "name", "credit_code", "kind", "district_code", "license_valid_from",
               "license_valid_to", "updated_at"),
              {"kind": _e("private", "public", "enterprise", "college", "foreign")}, history=True),
    TableSpec("institution_occupations", ("institution_id", "occupation_code", "approved_from"),
              ("institution_id", "occupation_code", "approved_from", "approved_to", "updated_at"),
              references={"institution_id": ("institutions", "institution_id"),
                          "occupation_code": ("occupations", "occupation_code")}, history=True),
    TableSpec("sites", ("site_id",),
              ("site_id", "institution_id", "district_code", "address", "registered", "updated_at"),
              references={"institution_id": ("institutions", "institution_id")}, history=True),
    TableSpec("cameras", ("camera_id",), ("camera_id", "site_id", "installed_on", "updated_at"),
              references={"site_id": ("sites", "site_id")}),
    TableSpec("classes", ("class_id",),
              ("class_id", "institution_id", "occupation_code", "skill_level", "programme", "subsidised",
               "planned_hours", "start_date", "end_date", "status", "updated_at"),
              {"skill_level": _e(1, 2, 3, 4, 5), "programme": _e("standard", "new_skill", "apprenticeship"),
               "status": _e("planned", "running", "finished", "cancelled")},
              {"institution_id": ("institutions", "institution_id"),
               "occupation_code": ("occupations", "occupation_code")}),
    TableSpec("trainees", ("trainee_id",),
              ("trainee_id", "id_number", "name", "gender", "birth_date", "phone", "updated_at"),
              {"gender": _e("M", "F")}),
    TableSpec("sessions", ("session_id",),
              ("session_id", "class_id", "site_id", "starts_at", "ends_at", "delivery", "status", "updated_at"),
              {"delivery": _e("onsite", "online"), "status": _e("scheduled", "held", "cancelled")},
              {"class_id": ("classes", "class_id"), "site_id": ("sites", "site_id")}),
    TableSpec("enrollments", ("enrollment_id",),
              ("enrollment_id", "class_id", "trainee_id", "enrolled_at", "status", "completed_on", "updated_at"),
              {"status": _e("active", "completed", "dropped")},
              {"class_id": ("classes", "class_id"), "trainee_id": ("trainees", "trainee_id")}),
    TableSpec("attendance", ("attendance_id",),
              ("attendance_id", "session_id", "trainee_id", "event", "method", "device_id", "captured_at",
               "face_score", "updated_at"),
              {"event": _e("check_in", "check_out"), "method": _e("face", "card", "manual")},
              {"session_id": ("sessions", "session_id"), "trainee_id": ("trainees", "trainee_id")}),
    TableSpec("subsidy_claims", ("claim_id",),
              ("claim_id", "enrollment_id", "trainee_id", "certificate_no", "amount_cny", "claimed_at", "status",
               "updated_at"),
              {"status": _e("submitted", "approved", "paid", "rejected")},
              {"enrollment_id": ("enrollments", "enrollment_id"), "trainee_id": ("trainees", "trainee_id")}),
)
TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)
_BY_NAME = {t.name: t for t in TABLES}

# What raw_training.trainees holds instead of the plain id_number / name / phone.
_TRAINEE_RAW = ("trainee_id", "person_key", "id_masked", "id_format_ok", "id_birth_date", "id_check_ok",
                "gender", "birth_date", "has_phone", "updated_at")
_TRAINEE_PII = ("id_number", "name", "phone")


def source_tables() -> dict[str, Any]:
    """SQLAlchemy Core ``Table`` objects of the source, declared (not reflected) with generic types,
    so that the pull works on any database SQLAlchemy speaks to, not just PostgreSQL."""
    import sqlalchemy as sa

    md = sa.MetaData()
    T, D, TS, B = sa.Text, sa.Date, sa.DateTime(timezone=True), sa.Boolean
    types: dict[str, Any] = {
        "is_urgent": B, "registered": B, "subsidised": B,
        "license_valid_from": D, "license_valid_to": D, "approved_from": D, "approved_to": D,
        "installed_on": D, "start_date": D, "end_date": D, "birth_date": D, "completed_on": D,
        "updated_at": TS, "starts_at": TS, "ends_at": TS, "enrolled_at": TS, "captured_at": TS,
        "claimed_at": TS, "skill_level": sa.SmallInteger, "attendance_id": sa.BigInteger,
        "planned_hours": sa.Numeric(6, 1), "face_score": sa.Numeric(4, 3), "amount_cny": sa.Numeric(10, 2),
    }
    return {spec.name: sa.Table(spec.name, md, *(sa.Column(c, types.get(c, T), primary_key=c in spec.key)
                                                 for c in spec.columns))
            for spec in TABLES}


# --- reading the source -----------------------------------------------------------------------

def _source_engine(source_url: str) -> Any:
    import sqlalchemy as sa

    from supervision.config import sqlalchemy_url

    url = sqlalchemy_url(source_url)
    args = {"connect_timeout": 10} if url.startswith("postgresql") else {}
    return sa.create_engine(url, connect_args=args, pool_pre_ping=True)


def _read_source(engine: Any, spec: TableSpec, since: datetime | None) -> Iterator[Sequence[Any]]:
    """Stream the rows of one source table changed since ``since`` (all rows when None)."""
    import sqlalchemy as sa

    table = source_tables()[spec.name]
    query = sa.select(*[table.c[c] for c in spec.columns])
    if since is not None:
        query = query.where(table.c.updated_at >= since)
    with engine.connect() as conn:
        # yield_per = server-side cursor on PostgreSQL (stream_results): memory stays flat.
        result = conn.execution_options(yield_per=BATCH_ROWS).execute(query)
        for partition in result.partitions():
            yield from partition


# --- checks -----------------------------------------------------------------------------------

def _key_text(spec: TableSpec, row: dict[str, Any]) -> str:
    return "|".join(str(row[k]) for k in spec.key)


def _enum_problem(spec: TableSpec, row: dict[str, Any]) -> BadValue | None:
    for col, allowed in spec.enums.items():
        if row[col] not in allowed:
            return BadValue(f"enum:{col}", f"{col} = {row[col]!r} is not one of {sorted(map(str, allowed))}")
    return None


def _json_row(row: dict[str, Any]) -> str:
    return json.dumps(row, default=str, ensure_ascii=False, sort_keys=True)


# --- the pull of one table --------------------------------------------------------------------

def _watermark(conn: Any, spec: TableSpec) -> datetime | None:
    row = conn.execute("select high_water from ops.watermarks where source_table = %s",
                       (f"training.{spec.name}",)).fetchone()
    return row[0] if row else None


def pull_table(source_url: str, warehouse_url: str, run_id: str, pii_key: bytes, table: str,
               overlap: timedelta = timedelta(hours=1)) -> dict[str, Any]:
    """Pull one table of the training platform (see the module doc). Returns its counts.

    Raises :class:`SourceUnavailable` when the source cannot be read (after recording a failed
    audit row); the warehouse is left as it was (one transaction)."""
    from supervision.warehouse import bootstrap

    spec = _BY_NAME[table]
    started = now_utc()
    bootstrap(warehouse_url)
    try:
        engine = _source_engine(source_url)
    except Exception as err:  # noqa: BLE001 - a malformed URL is as fatal as an unreachable host
        raise _unavailable(warehouse_url, run_id, spec, started, err) from err
    try:
        with connect(warehouse_url, temp_buffers="128MB") as conn:
            # One pull per table at a time: a retry overlapping a slow attempt must not interleave.
            conn.execute("select pg_advisory_xact_lock(hashtext('training:' || %s))", (spec.name,))
            mark = _watermark(conn, spec)
            since = None if mark is None else mark - overlap
            try:
                counts, message, high = _load(conn, engine, spec, since, run_id, pii_key)
            except SourceUnavailable as err:
                conn.rollback()
                raise _unavailable(warehouse_url, run_id, spec, started, err.__cause__ or err) from err
            if high is not None:
                conn.execute(
                    "insert into ops.watermarks (source_table, high_water) values (%s, %s)"
                    " on conflict (source_table) do update set high_water = excluded.high_water, updated_at = now()"
                    " where excluded.high_water > ops.watermarks.high_water",
                    (f"training.{spec.name}", high))
            write_audit(conn, run_id=run_id, source=SOURCE, obj=spec.name, started_at=started, counts=counts,
                        status="ok", message=message)
            conn.commit()
    finally:
        engine.dispose()
    result = {"table": spec.name, "since": since.isoformat() if since else None,
              "high_water": high.isoformat() if high else (mark.isoformat() if mark else None),
              **counts.as_dict(), "message": message}
    log.info("training.%s: %s", spec.name, json.dumps(result))
    return result


def _unavailable(warehouse_url: str, run_id: str, spec: TableSpec, started: datetime,
                 err: BaseException) -> SourceUnavailable:
    msg = f"training platform database unreachable while pulling {spec.name}: {type(err).__name__}: {err}"
    write_failure_audit(warehouse_url, run_id=run_id, source=SOURCE, obj=spec.name, started_at=started,
                        message=msg)
    return SourceUnavailable(msg)


def _load(conn: Any, engine: Any, spec: TableSpec, since: datetime | None, run_id: str,
          pii_key: bytes) -> tuple[Counts, str | None, datetime | None]:
    import sqlalchemy.exc

    counts = Counts()
    bad: list[BadRecord] = []
    high: datetime | None = None
    is_trainees = spec.name == "trainees"
    stage_cols = _TRAINEE_RAW + _TRAINEE_PII if is_trainees else spec.columns
    convert = _trainee_converter(pii_key) if is_trainees else None

    def good_rows() -> Iterator[Sequence[Any]]:
        nonlocal high
        try:
            for raw in _read_source(engine, spec, since):
                counts.received += 1
                row = dict(zip(spec.columns, raw, strict=True))
                ts = row["updated_at"]
                if high is None or ts > high:
                    high = ts
                problem = _enum_problem(spec, row)
                if problem:
                    bad.append(_quarantined(spec, row, problem, pii_key))
                    continue
                yield convert(row) if convert else raw
        except sqlalchemy.exc.SQLAlchemyError as err:  # OperationalError, DBAPIError, ...
            raise SourceUnavailable(str(err)) from err

    with conn.cursor() as cur:
        cur.execute(f"create temp table _stage on commit drop as select {', '.join(_stage_select(spec))}"
                    f" from raw_training.{spec.name} t{_pii_join(spec)} with no data")
        staged = copy_rows(cur, "_stage", (*stage_cols, "_run_id"),
                           ((*r, run_id) for r in good_rows()))
        if staged:
            counts.loaded = _merge(cur, spec, stage_cols)
        counts.duplicates = staged - counts.loaded
        dangling = _dangling(cur, spec) if staged else {}
    counts.quarantined = write_quarantine(conn, SOURCE, spec.name, bad, run_id)
    parts = [f"since {since.isoformat()}" if since else "full read"]
    if dangling:
        parts.append("dangling references loaded: " + ", ".join(f"{k}={v}" for k, v in dangling.items()))
    if bad:
        reasons: dict[str, int] = {}
        for b in bad:
            reasons[b.reason] = reasons.get(b.reason, 0) + 1
        parts.append("quarantined: " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())))
    return counts, "; ".join(parts), high


def _stage_select(spec: TableSpec) -> list[str]:
    if spec.name == "trainees":
        return [f"t.{c}" for c in _TRAINEE_RAW] + ["p.id_number", "p.name", "p.phone", "t._run_id"]
    return [f"t.{c}" for c in spec.columns] + ["t._run_id"]


def _pii_join(spec: TableSpec) -> str:
    return " cross join pii.trainees p" if spec.name == "trainees" else ""


def _merge(cur: Any, spec: TableSpec, stage_cols: Sequence[str]) -> int:
    """History first (every version, once), then the latest version into the target. Returns the
    number of rows inserted or changed in the target."""
    raw_cols = _TRAINEE_RAW if spec.name == "trainees" else spec.columns
    cols = ", ".join(raw_cols)
    key = ", ".join(spec.key)
    non_key = [c for c in raw_cols if c not in spec.key]
    # The source enforces primary keys, but one pull must never feed ON CONFLICT the same key
    # twice, whatever the source: keep the latest version of each key.
    latest = (f"select distinct on ({key}) {cols}, _run_id from _stage"
              f" order by {key}, updated_at desc")
    if spec.history:
        # (the history tables are made with LIKE, without the default of _loaded_at)
        cur.execute(f"insert into raw_training.{spec.name}_history ({cols}, _run_id, _loaded_at)"
                    f" select {cols}, _run_id, now() from _stage on conflict do nothing")
    changed = " or ".join(f"t.{c} is distinct from excluded.{c}" for c in non_key)
    updates = ", ".join(f"{c} = excluded.{c}" for c in non_key)
    cur.execute(
        f"insert into raw_training.{spec.name} as t ({cols}, _run_id) {latest}"
        f" on conflict ({key}) do update set {updates}, _run_id = excluded._run_id, _loaded_at = now()"
        f" where excluded.updated_at > t.updated_at"
        f"    or (excluded.updated_at = t.updated_at and ({changed}))")
    merged = cur.rowcount
    if spec.name == "trainees":
        # The plain identity follows the version that won in raw (same comparison).
        cur.execute(
            "insert into pii.trainees as p (trainee_id, id_number, name, phone, updated_at)"
            " select distinct on (trainee_id) trainee_id, id_number, name, phone, updated_at from _stage"
            " order by trainee_id, updated_at desc"
            " on conflict (trainee_id) do update set id_number = excluded.id_number, name = excluded.name,"
            "   phone = excluded.phone, updated_at = excluded.updated_at"
            " where excluded.updated_at > p.updated_at or (excluded.updated_at = p.updated_at and"
            "   (p.id_number, p.name, p.phone) is distinct from (excluded.id_number, excluded.name, excluded.phone))")
    return merged


def _dangling(cur: Any, spec: TableSpec) -> dict[str, int]:
    out: dict[str, int] = {}
    for col, (parent, pcol) in spec.references.items():
        n = cur.execute(f"select count(*) from _stage s where not exists"
                        f" (select 1 from raw_training.{parent} p where p.{pcol} = s.{col})").fetchone()[0]
        if n:
            out[f"{col}->{parent}"] = int(n)
    return out


# --- trainees: personal data ------------------------------------------------------------------

def _trainee_converter(pii_key: bytes) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    from supervision.pii import id_checks, mask_id, person_key

    def convert(row: dict[str, Any]) -> tuple[Any, ...]:
        idn = row["id_number"] or ""
        fmt, birth, check = id_checks(idn)
        phone = row["phone"]
        return (row["trainee_id"], person_key(idn, pii_key), mask_id(idn), fmt, birth, check, row["gender"],
                row["birth_date"], bool(phone and str(phone).strip()), row["updated_at"],
                idn, row["name"], phone)

    return convert


def _quarantined(spec: TableSpec, row: dict[str, Any], problem: BadValue, pii_key: bytes) -> BadRecord:
    if spec.name != "trainees":
        return problem.record(_key_text(spec, row), _json_row(row))
    from supervision.pii import mask_id, person_key

    # ops.quarantine is readable by data engineers: the plain identity goes to pii.quarantine_raw.
    redacted = {k: v for k, v in row.items() if k not in _TRAINEE_PII}
    idn = row["id_number"] or ""
    redacted.update(person_key=person_key(idn, pii_key), id_masked=mask_id(idn),
                    has_phone=bool(row["phone"]))
    return problem.record(_key_text(spec, row), _json_row(redacted), _json_row(row))


# --- all tables -------------------------------------------------------------------------------

def pull_training_platform(source_url: str, warehouse_url: str, run_id: str, pii_key: bytes,
                           overlap: timedelta = timedelta(hours=1)) -> dict[str, Any]:
    """Pull every table (parents first). Returns ``{table: counts}``; raises SourceUnavailable on
    the first table the source cannot serve (the tables pulled before it stay pulled)."""
    return {spec.name: pull_table(source_url, warehouse_url, run_id, pii_key, spec.name, overlap)
            for spec in TABLES}


__all__ = ["TABLES", "TABLE_NAMES", "SourceUnavailable", "TableSpec", "pull_table", "pull_training_platform",
           "source_tables"]
