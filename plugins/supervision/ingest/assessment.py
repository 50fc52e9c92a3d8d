"""Assessment platform: ``<landing>/assessment/date=YYYY-MM-DD/*.csv`` into ``raw_assessment.*``.

Each file is loaded once (manifest by path, size and SHA-256), in one transaction, in delivery
order (date folder, then file name). Per file:

- encoding detected, not configured: a UTF-8 BOM, else strict UTF-8, else GB18030;
- the Chinese header row mapped to the contract's field names, columns in any order; headers and
  機構類型 values in either script (SOURCES.md, "Script"), the kind kept in the contract table's form,
  the header's script noted in the file's audit message;
- full-width digits and stray spaces in numbers, dates and ID numbers normalised; dates
  ``YYYY-MM-DD`` and local times ``YYYY-MM-DD HH:MM[:SS]`` (the platform's local time zone) parsed strictly;
- blank lines skipped and counted; a row with too few or too many columns, a bad date or time, a
  non-numeric score or an empty key → ``ops.quarantine`` with the reason, the file and the line;
  out-of-range scores are loaded (SCORE_FLAG_MISMATCH judges them), 是否合格 is kept as delivered;
- upsert by key where the latest delivery wins: (delivery_date, file_id, line_no) is stored and
  compared, so re-loading an older folder (a late file) never overrides a newer delivery;
- ID numbers become person_key / id_masked / id checks; plain ID numbers and names go to
  ``pii.exam_candidates`` / ``pii.certificate_holders`` only.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from supervision.config import settings
from supervision.ingest.common import (
    BadRecord,
    BadValue,
    Counts,
    LandingFile,
    connect,
    copy_rows,
    finish_file,
    now_utc,
    pending_files,
    register_file,
    write_audit,
    write_failure_audit,
    write_quarantine,
)

log = logging.getLogger(__name__)

SOURCE = "assessment"
SUFFIX = ".csv"
_WITHHELD = "[withheld: the row holds personal data and its columns do not line up; see pii.quarantine_raw]"

# The export's headers and enumerations come in either script (SOURCES.md, "Script"): the platform's
# current version writes Simplified, offices on the older one the Traditional forms of the contract's
# field tables; both occur even among one day's files. (Traditional, Simplified, field), per header:
_HEADER_FORMS: tuple[tuple[str, str, str], ...] = (
    ("機構編號", "机构编号", "org_id"), ("機構名稱", "机构名称", "name"), ("機構類型", "机构类型", "kind"),
    ("所在區", "所在区", "district_code"), ("備案職業", "备案职业", "occupation_codes"),
    ("備案日期", "备案日期", "registered_on"), ("有效期至", "有效期至", "valid_to"),
    ("考試批次號", "考试批次号", "exam_id"), ("職業編碼", "职业编码", "occupation_code"),
    ("等級", "等级", "skill_level"), ("開始時間", "开始时间", "starts_at"), ("結束時間", "结束时间", "ends_at"),
    ("考評員", "考评员", "assessor_ids"), ("報名人數", "报名人数", "registered"),
    ("成績編號", "成绩编号", "result_id"), ("身份證號", "身份证号", "id_number"), ("姓名", "姓名", "name"),
    ("理論成績", "理论成绩", "theory_score"), ("實操成績", "实操成绩", "practical_score"),
    ("是否合格", "是否合格", "passed"), ("錄入時間", "录入时间", "recorded_at"),
    ("證書編號", "证书编号", "certificate_no"), ("發證日期", "发证日期", "issued_on"),
)
HEADERS: dict[str, str] = {**{t: f for t, _, f in _HEADER_FORMS}, **{s: f for _, s, f in _HEADER_FORMS}}
_TRADITIONAL_ONLY_HEADERS = {t for t, s, _ in _HEADER_FORMS if t != s}
_SIMPLIFIED_ONLY_HEADERS = {s for t, s, _ in _HEADER_FORMS if t != s}

# 機構類型 in either script -> the contract table's form, the one value the warehouse keeps (dbt's
# staging and the GX suites compare against it). 是否合格's values (合格, 不合格) are the same in both.
KINDS: dict[str, str] = {"社會評價組織": "社會評價組織", "社会评价组织": "社會評價組織",
                         "用人單位": "用人單位", "用人单位": "用人單位", "院校": "院校"}


def header_script(cells: Sequence[str]) -> str:
    """Which script a header row is written in: simplified, traditional, mixed, or neutral (no
    header whose two forms differ)."""
    names = {_SPACES.sub("", c) for c in cells}
    trad, simp = bool(names & _TRADITIONAL_ONLY_HEADERS), bool(names & _SIMPLIFIED_ONLY_HEADERS)
    return "mixed" if trad and simp else "traditional" if trad else "simplified" if simp else "neutral"


# Full-width digits, X and punctuation that appear in numbers -> ASCII; every kind of space -> removed.
_FULL_WIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                             "．": ".", "－": "-", "＋": "+", "：": ":", "Ｘ": "X", "ｘ": "x", "／": "/"})
_SPACES = re.compile(r"[\s\u3000\u00a0\ufeff]+")
_INT = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")


# --- field parsers (text of one cell -> value; raise BadValue with the reason) --------------------

def _number_text(text: str) -> str:
    return _SPACES.sub("", text.translate(_FULL_WIDTH))


def _text(name: str, required: bool = False) -> Callable[[str], str]:
    def parse(text: str) -> str:
        v = text.strip()
        if required and not v:
            raise BadValue(f"missing:{name}", f"{name} is empty")
        return v
    return parse


def _kind(text: str) -> str:
    """An organisation kind in either script, as the contract's table writes it; an unknown value is
    kept as delivered (the GX gate reports it)."""
    v = _SPACES.sub("", text)
    return KINDS.get(v, text.strip())


def _optional_text(text: str) -> str | None:
    return text.strip() or None


def _code(text: str) -> str:
    return _number_text(text)


def _int(name: str, lo: int, hi: int) -> Callable[[str], int | None]:
    def parse(text: str) -> int | None:
        v = _number_text(text)
        if not v:
            return None
        if not _INT.fullmatch(v) or not lo <= int(v) <= hi:
            raise BadValue(f"not_integer:{name}", f"{name} is not an integer: {text!r}")
        return int(v)
    return parse


def _score(name: str) -> Callable[[str], Decimal | None]:
    def parse(text: str) -> Decimal | None:
        v = _number_text(text)
        if not v:
            return None
        if not _NUMBER.fullmatch(v):
            raise BadValue(f"not_numeric:{name}", f"{name} is not a number: {text!r}")
        return Decimal(v)  # out-of-range values are loaded on purpose (SCORE_FLAG_MISMATCH)
    return parse


def _date(name: str) -> Callable[[str], date | None]:
    def parse(text: str) -> date | None:
        v = _number_text(text)
        if not v:
            return None
        m = _DATE.fullmatch(v)
        try:
            if not m:
                raise ValueError
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise BadValue(f"bad_date:{name}", f"{name} is not a date YYYY-MM-DD: {text!r}") from None
    return parse


def _local_time(name: str) -> Callable[[str], datetime | None]:
    tz = settings().tzinfo  # the platform's local time zone (times in the export are local)

    def parse(text: str) -> datetime | None:
        v = " ".join(text.translate(_FULL_WIDTH).replace("\u3000", " ").split())
        if not v:
            return None
        m = _DATETIME.fullmatch(v)
        try:
            if not m:
                raise ValueError
            return datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0),
                            tzinfo=tz)
        except ValueError:
            raise BadValue(f"bad_datetime:{name}",
                       f"{name} is not a local time YYYY-MM-DD HH:MM[:SS]: {text!r}") from None
    return parse


def _list(text: str) -> list[str]:
    return [p.strip() for p in text.replace("；", ";").split(";") if p.strip()]


def _id_number(text: str) -> str:
    return _number_text(text)


@dataclass(frozen=True)
class FileSpec:
    table: str
    key: str
    fields: dict[str, Callable[[str], Any]]   # field -> parser, in the raw table's column order
    pii_table: str | None = None              # where the plain id_number and name go
    # A full snapshot every day (SOURCES.md: evaluation_orgs.csv): a later delivery rewrites a row
    # only where its content changed, so that `_loaded_at` marks a change, not a day. Stamped every
    # day, the daily snapshot made every exam result's org "changed": EXAM_DURING_TRAINING
    # recomputed all 335 k results of a quarter each day, growing with the history.
    snapshot: bool = False


FILES: dict[str, FileSpec] = {
    "evaluation_orgs": FileSpec("evaluation_orgs", "org_id", {
        "org_id": _text("org_id", True), "name": _text("name"), "kind": _kind,
        "district_code": _code, "occupation_codes": _list,
        "registered_on": _date("registered_on"), "valid_to": _date("valid_to")}, snapshot=True),
    "exam_sessions": FileSpec("exam_sessions", "exam_id", {
        "exam_id": _text("exam_id", True), "org_id": _text("org_id"), "occupation_code": _code,
        "skill_level": _int("skill_level", -32768, 32767), "starts_at": _local_time("starts_at"),
        "ends_at": _local_time("ends_at"), "assessor_ids": _list,
        "registered": _int("registered", -2**31, 2**31 - 1)}),
    "exam_results": FileSpec("exam_results", "result_id", {
        "result_id": _text("result_id", True), "exam_id": _text("exam_id"), "id_number": _id_number,
        "name": _text("name"), "theory_score": _score("theory_score"),
        "practical_score": _score("practical_score"), "passed": _text("passed"),
        "recorded_at": _local_time("recorded_at")}, pii_table="exam_candidates"),
    "certificates": FileSpec("certificates", "certificate_no", {
        "certificate_no": _text("certificate_no", True), "result_id": _optional_text, "id_number": _id_number,
        "name": _text("name"), "occupation_code": _code, "skill_level": _int("skill_level", -32768, 32767),
        "issued_on": _date("issued_on"), "org_id": _text("org_id")}, pii_table="certificate_holders"),
}
_PERSON = ("person_key", "id_masked", "id_format_ok", "id_birth_date", "id_check_ok")
_DELIVERY_ORDER = ("delivery_date", "file_id", "line_no")  # which version of a key is the latest


def _raw_columns(spec: FileSpec) -> list[str]:
    """Columns of the raw table that the loader writes (personal data replaced, delivery order added)."""
    cols: list[str] = []
    for f in spec.fields:
        if f == "id_number":
            cols += [c for c in _PERSON
                     if c not in ("id_format_ok", "id_birth_date", "id_check_ok") or spec.table == "exam_results"]
        elif f == "name" and spec.pii_table:
            continue
        else:
            cols.append(f)
    return cols + list(_DELIVERY_ORDER)


# --- reading a file ---------------------------------------------------------------------------

def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding) of an export: UTF-8 with BOM, UTF-8, else GB18030 (detected, not configured)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        # Not even GB18030: keep going with replacement characters, the bad rows will show it.
        return data.decode("gb18030", "replace"), "gb18030(replace)"


def _header_field(cell: str) -> str | None:
    return HEADERS.get(_SPACES.sub("", cell))


@dataclass
class _Parsed:
    rows: list[tuple[Any, ...]]
    bad: list[BadRecord]
    counts: Counts
    message: str
    failed: bool = False


def parse_csv(data: bytes, spec: FileSpec, pii_key: bytes, local_date: date, file_id: int) -> _Parsed:
    """Rows ready for COPY (raw columns + id_number, name for the pii table), and the quarantine."""
    from supervision.pii import id_checks, mask_id, person_key

    text, encoding = decode_bytes(data)
    physical = io.StringIO(text, newline="").readlines()
    reader = csv.reader(io.StringIO(text, newline=""))
    counts = Counts()
    bad: list[BadRecord] = []
    rows: list[tuple[Any, ...]] = []
    header: list[str | None] | None = None
    prev_line = 0
    missing: list[str] = []
    ignored: list[str] = []
    script = ""
    pii_positions: dict[int, str] = {}

    def raw_of(start: int, end: int) -> str:
        return "".join(physical[start:end]).rstrip("\r\n")

    for cells in reader:
        start, prev_line = prev_line, reader.line_num
        line_no = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            counts.received += 1
            counts.skipped += 1
            continue
        if header is None:
            header = [_header_field(c) for c in cells]
            script = header_script(cells)
            missing = [f for f in spec.fields if f not in header]
            ignored = [c.strip() for c, f in zip(cells, header, strict=True) if f is None]
            pii_positions = {i: f for i, f in enumerate(header) if f in ("id_number", "name") and spec.pii_table}
            continue
        counts.received += 1
        raw = raw_of(start, line_no)
        safe_raw = raw if not spec.pii_table else _redact(cells, len(header), pii_positions)
        pii_raw = raw if spec.pii_table else None
        if missing:
            bad.append(BadRecord(str(line_no), "missing_columns", f"the header lacks {missing}", safe_raw, pii_raw))
            continue
        if len(cells) != len(header):
            reason = "too_few_columns" if len(cells) < len(header) else "too_many_columns"
            bad.append(BadRecord(str(line_no), reason, f"{len(cells)} columns, the header has {len(header)}",
                                 safe_raw, pii_raw))
            continue
        try:
            values = {f: spec.fields[f](cells[i]) for i, f in enumerate(header) if f is not None}
        except BadValue as b:
            bad.append(b.record(str(line_no), safe_raw, pii_raw))
            continue
        out: list[Any] = []
        for f in spec.fields:
            v = values[f]
            if f == "id_number":
                fmt, birth, check = id_checks(v)
                out += [person_key(v, pii_key), mask_id(v)]
                if spec.table == "exam_results":
                    out += [fmt, birth, check]
            elif f == "name" and spec.pii_table:
                continue
            else:
                out.append(v)
        out += [local_date, file_id, line_no]
        if spec.pii_table:
            out += [values["id_number"], values["name"]]
        rows.append(tuple(out))
    if header is None:
        message = f"{encoding}; empty file (no header)"
    else:
        message = f"{encoding}; headers {script}; columns {[f for f in header if f]}"
        if ignored:
            message += f"; unknown columns ignored {ignored}"
        if missing:
            message += f"; header lacks {missing}: every row quarantined"
    return _Parsed(rows, bad, counts, message, failed=bool(missing))


def _redact(cells: Sequence[str], width: int, pii_positions: dict[int, str]) -> str:
    """The row for ops.quarantine: ID number masked, name starred; withheld whole when the
    columns do not line up (then nobody can tell which cell is which)."""
    if len(cells) != width:
        return _WITHHELD
    from supervision.pii import mask_id

    out = []
    for i, c in enumerate(cells):
        if pii_positions.get(i) == "id_number":
            c = mask_id(_id_number(c))
        elif pii_positions.get(i) == "name":
            c = "*" * len(c.strip())
        out.append(c)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(out)
    return buf.getvalue()


# --- loading ----------------------------------------------------------------------------------

def list_pending_files(landing: Path, warehouse_url: str, day: date | None = None,
                       run_id: str | None = None) -> list[str]:
    from supervision.warehouse import bootstrap

    bootstrap(warehouse_url)
    with connect(warehouse_url) as conn:
        return [lf.path for lf in pending_files(conn, Path(landing), SOURCE, SUFFIX, day, run_id)]


def load_assessment_file(landing: Path, warehouse_url: str, run_id: str, pii_key: bytes, path: str) -> dict[str, Any]:
    """Load one export file in one transaction; never raises for a bad file (it is recorded)."""
    landing = Path(landing)
    started = now_utc()
    try:
        local = date.fromisoformat(Path(path).parent.name.removeprefix("date="))
        data = (landing / path).read_bytes()  # daily exports are small: read whole
        lf = LandingFile(path, local, len(data))
        with connect(warehouse_url) as conn:
            return _load_file(conn, lf, data, run_id, pii_key, started)
    except Exception as err:  # noqa: BLE001 - a bad file must never stop the others
        log.exception("assessment file %s failed", path)
        write_failure_audit(warehouse_url, run_id=run_id, source=SOURCE, obj=path, started_at=started,
                            message=f"{type(err).__name__}: {err}")
        return {"path": path, "status": "failed", "error": f"{type(err).__name__}: {err}", **Counts().as_dict()}


def _load_file(conn: Any, lf: LandingFile, data: bytes, run_id: str, pii_key: bytes,
               started: datetime) -> dict[str, Any]:
    conn.execute("select pg_advisory_xact_lock(hashtext('assessment:' || %s))", (lf.path,))
    if conn.execute("select 1 from ops.file_manifest where path = %s", (lf.path,)).fetchone():
        conn.rollback()
        return {"path": lf.path, "status": "already_loaded", **Counts().as_dict()}
    sha = hashlib.sha256(data).hexdigest()
    file_id = register_file(conn, SOURCE, lf, sha, run_id)
    assert file_id is not None
    spec = FILES.get(Path(lf.path).name.removesuffix(SUFFIX))
    if spec is None:
        counts = Counts(received=1, quarantined=1)
        msg = f"unknown export {Path(lf.path).name!r}: expected one of {sorted(f + SUFFIX for f in FILES)}"
        write_quarantine(conn, SOURCE, lf.path, [BadRecord("file", "unknown_file", msg)], run_id)
        finish_file(conn, file_id, counts, "failed", msg)
        write_audit(conn, run_id=run_id, source=SOURCE, obj=lf.path, started_at=started, counts=counts,
                    status="failed", message=msg)
        conn.commit()
        return {"path": lf.path, "status": "failed", "file_id": file_id, **counts.as_dict()}

    parsed = parse_csv(data, spec, pii_key, lf.local_date, file_id)
    counts = parsed.counts
    cols = _raw_columns(spec)
    with conn.cursor() as cur:
        pii_cols = ["id_number", "name"] if spec.pii_table else []
        cur.execute(f"create temp table _stage on commit drop as select {', '.join(cols)}"
                    + "".join(f", null::text as {c}" for c in pii_cols)
                    + f" from raw_assessment.{spec.table} with no data")
        copy_rows(cur, "_stage", cols + pii_cols, parsed.rows)
        counts.loaded = _merge(cur, spec, cols) if parsed.rows else 0
    counts.duplicates = len(parsed.rows) - counts.loaded
    counts.quarantined = write_quarantine(conn, SOURCE, lf.path, parsed.bad, run_id)
    status = "failed" if parsed.failed else "loaded"
    finish_file(conn, file_id, counts, status, parsed.message)
    write_audit(conn, run_id=run_id, source=SOURCE, obj=lf.path, started_at=started, counts=counts,
                status="failed" if parsed.failed else "ok", message=parsed.message)
    conn.commit()
    return {"path": lf.path, "status": status, "file_id": file_id, **counts.as_dict()}


def _merge(cur: Any, spec: FileSpec, cols: Sequence[str]) -> int:
    """Upsert the file's rows: within the file the last line of a key wins; against the table the
    later delivery (delivery_date, file_id, line_no) wins; of a snapshot, only where the row's
    content changed (the row then keeps the delivery that brought its content). Returns the number
    of rows written."""
    key = spec.key
    col_list = ", ".join(cols)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != key)
    latest = f"select distinct on ({key}) * from _stage order by {key}, line_no desc"

    def row(alias: str, columns: Sequence[str]) -> str:
        return "(" + ", ".join(f"{alias}.{c}" for c in columns) + ")"

    changed = ""
    if spec.snapshot:
        content = [c for c in cols if c != key and c not in _DELIVERY_ORDER]
        changed = f" and {row('t', content)} is distinct from {row('excluded', content)}"
    upsert = (f"insert into raw_assessment.{spec.table} as t ({col_list}) select {col_list} from ({latest}) s"
              f" on conflict ({key}) do update set {updates}, _loaded_at = now()"
              f" where {row('excluded', _DELIVERY_ORDER)} > {row('t', _DELIVERY_ORDER)}{changed}"
              f" returning {key}")
    if not spec.pii_table:
        cur.execute(f"with up as ({upsert}) select count(*) from up")
        return int(cur.fetchone()[0])
    # The plain identity follows the version that won in raw.
    cur.execute(
        f"with up as ({upsert}),"
        f" p as (insert into pii.{spec.pii_table} as p ({key}, id_number, name)"
        f"       select s.{key}, s.id_number, s.name from ({latest}) s join up using ({key})"
        f"       on conflict ({key}) do update set id_number = excluded.id_number, name = excluded.name"
        f"       returning 1)"
        f" select (select count(*) from up), (select count(*) from p)")
    return int(cur.fetchone()[0])


def load_assessments(landing: Path, warehouse_url: str, run_id: str, pii_key: bytes,
                     day: date | None = None) -> dict[str, Any]:
    """Load every export not loaded yet (folders up to ``day``; all when None), oldest first."""
    results = [load_assessment_file(landing, warehouse_url, run_id, pii_key, p)
               for p in list_pending_files(landing, warehouse_url, day, run_id)]
    total = Counts()
    for r in results:
        total.add(Counts(**{k: r.get(k, 0) for k in Counts().as_dict()}))
    summary = {"files": len(results), "failed_files": [r["path"] for r in results if r.get("status") == "failed"],
               **total.as_dict(), "results": results}
    log.info("assessment: %s", json.dumps({k: v for k, v in summary.items() if k != "results"}))
    return summary


__all__ = ["FILES", "HEADERS", "decode_bytes", "list_pending_files", "load_assessment_file", "load_assessments",
           "parse_csv"]
