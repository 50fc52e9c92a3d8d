"""The contract's delivery formats: training-platform tables, video JSON Lines, assessment CSVs.

Writers are byte-deterministic: gzip members carry mtime 0 and no file name, CSV rows are written in
a fixed order, and files are replaced atomically (a reader never sees half a file)."""
from __future__ import annotations

import gzip
import os
import re
from importlib import resources
from pathlib import Path

# --- assessment CSV headers: (header as SOURCES.md writes it, field name) ----------------------
CSV_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "evaluation_orgs": [("機構編號", "org_id"), ("機構名稱", "name"), ("機構類型", "kind"), ("所在區", "district_code"),
                        ("備案職業", "occupation_codes"), ("備案日期", "registered_on"), ("有效期至", "valid_to")],
    "exam_sessions": [("考試批次號", "exam_id"), ("機構編號", "org_id"), ("職業編碼", "occupation_code"),
                      ("等級", "skill_level"), ("開始時間", "starts_at"), ("結束時間", "ends_at"),
                      ("考評員", "assessor_ids"), ("報名人數", "registered")],
    "exam_results": [("成績編號", "result_id"), ("考試批次號", "exam_id"), ("身份證號", "id_number"), ("姓名", "name"),
                     ("理論成績", "theory_score"), ("實操成績", "practical_score"), ("是否合格", "passed"),
                     ("錄入時間", "recorded_at")],
    "certificates": [("證書編號", "certificate_no"), ("成績編號", "result_id"), ("身份證號", "id_number"), ("姓名", "name"),
                     ("職業編碼", "occupation_code"), ("等級", "skill_level"), ("發證日期", "issued_on"),
                     ("機構編號", "org_id")],
}
# The same headers and 機構類型 values as the platform's current version writes them (SOURCES.md,
# "Script"): Simplified, as Shanghai's systems do; offices on the older version write the forms above.
SIMPLIFIED: dict[str, str] = {
    "機構編號": "机构编号", "機構名稱": "机构名称", "機構類型": "机构类型", "所在區": "所在区",
    "備案職業": "备案职业", "備案日期": "备案日期", "有效期至": "有效期至",
    "考試批次號": "考试批次号", "職業編碼": "职业编码", "等級": "等级", "開始時間": "开始时间", "結束時間": "结束时间",
    "考評員": "考评员", "報名人數": "报名人数",
    "成績編號": "成绩编号", "身份證號": "身份证号", "姓名": "姓名", "理論成績": "理论成绩", "實操成績": "实操成绩",
    "是否合格": "是否合格", "錄入時間": "录入时间", "證書編號": "证书编号", "發證日期": "发证日期",
    "社會評價組織": "社会评价组织", "用人單位": "用人单位", "院校": "院校", "合格": "合格", "不合格": "不合格",
    "備註": "备注",
}
SCRIPTS = ("simplified", "traditional")


def in_script(text: str, script: str) -> str:
    """A header, an enumeration value or the stray 備註 cell in ``script``."""
    return SIMPLIFIED.get(text, text) if script == "simplified" else text


CSV_KEYS = {"evaluation_orgs": "org_id", "exam_sessions": "exam_id", "exam_results": "result_id",
            "certificates": "certificate_no"}
CSV_KINDS = tuple(CSV_COLUMNS)


def csv_cell(text: str) -> str:
    """One CSV cell (RFC 4180 quoting only where needed)."""
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(cells: list[str]) -> str:
    return ",".join(csv_cell(c) for c in cells)


# --- training platform DDL ---------------------------------------------------------------------

def ddl_text() -> str:
    return resources.files("supervision").joinpath("sql").joinpath("training_platform.sql").read_text(encoding="utf-8")


def ddl_statements() -> list[tuple[str, str]]:
    """(table name, CREATE TABLE statement) in file order, comments removed."""
    text = "\n".join(line.split("--", 1)[0] for line in ddl_text().splitlines())
    out = []
    for stmt in text.split(";"):
        m = re.search(r"CREATE TABLE\s+(\w+)", stmt, re.I)
        if m:
            out.append((m.group(1), stmt.strip()))
    return out


def ddl_columns() -> dict[str, tuple[list[str], list[str]]]:
    """table -> (columns in order, primary key columns), read from the DDL."""
    out = {}
    for table, stmt in ddl_statements():
        body = stmt[stmt.index("(") + 1: stmt.rindex(")")]
        cols, pk = [], []
        for part in re.split(r",\s*\n", body):
            part = part.strip()
            if not part:
                continue
            m = re.match(r"PRIMARY KEY\s*\(([^)]*)\)", part, re.I)
            if m:
                pk = [c.strip() for c in m.group(1).split(",")]
                continue
            name = part.split()[0]
            cols.append(name)
            if "PRIMARY KEY" in part.upper():
                pk = [name]
        out[table] = (cols, pk)
    return out


TABLES = tuple(t for t, _ in ddl_statements())


# --- files -------------------------------------------------------------------------------------

def gzip_bytes(data: bytes) -> bytes:
    """A single gzip member, mtime 0, no file name: the same input always gives the same bytes."""
    return gzip.compress(data, compresslevel=3, mtime=0)


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it already holds exactly that; True if written."""
    if path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True
