"""The simulated sources against the contract (SOURCES.md, training_platform.sql), and the fault
accounting: faults.csv must say exactly what is wrong in each file."""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections import Counter, defaultdict
from pathlib import Path

import psycopg
import pytest

from supervision.simulator.formats import CSV_COLUMNS, SIMPLIFIED, ddl_columns
from tests.conftest import CONTRACT

REPO = Path(__file__).resolve().parents[2]
PG_TYPES = {"text": "text", "boolean": "boolean", "timestamptz": "timestamp with time zone", "date": "date",
            "smallint": "smallint", "bigint": "bigint", "numeric": "numeric"}
ENUMS = {("institutions", "kind"): {"private", "public", "enterprise", "college", "foreign"},
         ("classes", "programme"): {"standard", "new_skill", "apprenticeship"},
         ("classes", "status"): {"planned", "running", "finished", "cancelled"},
         ("sessions", "delivery"): {"onsite", "online"}, ("sessions", "status"): {"scheduled", "held", "cancelled"},
         ("trainees", "gender"): {"M", "F"}, ("enrollments", "status"): {"active", "completed", "dropped"},
         ("attendance", "event"): {"check_in", "check_out"}, ("attendance", "method"): {"face", "card", "manual"},
         ("subsidy_claims", "status"): {"submitted", "approved", "paid", "rejected"},
         ("occupations", "category"): {"manufacturing", "digital", "life_service", "construction", "other"}}


def contract_script_forms() -> dict[str, str]:
    """SOURCES.md's "Script" table: Traditional form -> Simplified form, headers and enumerations."""
    text = (CONTRACT / "SOURCES.md").read_text(encoding="utf-8")
    table = text[text.index("| Traditional (tables below) | Simplified |"):].split("\n\n", 1)[0]
    out = {}
    for line in table.splitlines()[2:]:
        trad, simp = (re.sub(r"\(.*?\)", "", c).strip() for c in line.strip().strip("|").split("|"))
        trad_forms = [t.strip() for t in trad.split(",")]
        simp_forms = trad_forms if simp == "the same" else [t.strip() for t in simp.split(",")]
        out.update(zip(trad_forms, simp_forms, strict=True))
    return out


def test_the_simplified_forms_are_the_contracts():
    """The simulator's Simplified headers and enumerations are SOURCES.md's (its "Script" table)."""
    contract = contract_script_forms()
    assert len(contract) == 28
    assert {k: v for k, v in SIMPLIFIED.items() if k != "備註"} == contract


def contract_headers() -> dict[str, list[str]]:
    text = (CONTRACT / "SOURCES.md").read_text(encoding="utf-8")
    out = {}
    for kind in CSV_COLUMNS:
        block = text[text.index(f"`{kind}.csv`"):].split("\n\n", 2)[1]
        out[kind] = [line.split("|")[1].strip() for line in block.splitlines()[2:] if line.startswith("|")]
    return out


def faults(run) -> dict[tuple[str, str], int]:
    """(file or table, fault) -> count, summed over days."""
    out: Counter = Counter()
    with (run.labels_dir / "faults.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            out[(r["object"], r["fault"])] += int(r["count"])
    return dict(out)


def decode(raw: bytes) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf8_bom"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("gb18030"), "encoding_gb18030"


def test_packaged_ddl_is_the_contracts_byte_for_byte():
    packaged = REPO / "plugins" / "supervision" / "sql" / "training_platform.sql"
    assert packaged.read_bytes() == (CONTRACT / "training_platform.sql").read_bytes()


def test_tables_have_the_contracts_columns_and_types(run):
    with psycopg.connect(run.url) as conn:
        rows = conn.execute("select table_name, column_name, data_type from information_schema.columns "
                            "where table_schema = 'public' order by table_name, ordinal_position").fetchall()
    got = defaultdict(list)
    for t, c, typ in rows:
        got[t].append((c, typ))
    ddl = "\n".join(line.split("--", 1)[0] for line in
                    (CONTRACT / "training_platform.sql").read_text(encoding="utf-8").splitlines())
    for table, (cols, _pk) in ddl_columns().items():
        body = ddl[ddl.index(f"CREATE TABLE {table} "):].split(");", 1)[0]
        want = []
        for c in cols:
            typ = re.search(rf"\n\s+{c}\s+(\w+)", body).group(1)
            want.append((c, PG_TYPES[typ]))
        assert got[table] == want, table
        assert got[table], table


def test_training_rows_are_mostly_within_the_enums(run):
    """Out-of-enum values are injected faults: a handful, never the rule."""
    with psycopg.connect(run.url) as conn:
        for (table, col), allowed in ENUMS.items():
            values = Counter(v for (v,) in conn.execute(f"select {col} from {table}"))
            bad = sum(n for v, n in values.items() if v not in allowed)
            assert bad <= max(3, 0.02 * sum(values.values())), (table, col, values)


def test_csv_files_have_the_contracts_headers_and_paths(run):
    heads = contract_headers()
    f = faults(run)
    files = sorted((run.landing / "assessment").rglob("*"))
    assert files
    seen: Counter = Counter()
    scripts: Counter = Counter()
    for p in files:
        if p.is_dir():
            assert re.fullmatch(r"assessment(/date=\d{4}-\d{2}-\d{2})?", p.relative_to(run.landing).as_posix())
            continue
        rel = p.relative_to(run.landing).as_posix()
        m = re.fullmatch(r"assessment/date=(\d{4}-\d{2}-\d{2})/(\w+)\.csv", rel)
        assert m and m.group(2) in heads, rel
        text, _ = decode(p.read_bytes())
        header = next(csv.reader(io.StringIO(text)))
        # Traditional (the tables' form) in the files faults.csv says so, else Simplified (SOURCES.md "Script")
        traditional = (rel, "traditional_script") in f
        want = heads[m.group(2)] if traditional else [SIMPLIFIED.get(h, h) for h in heads[m.group(2)]]
        assert sorted(header) == sorted(want), rel
        if (rel, "columns_reordered") not in f:
            assert header == want, rel
        if m.group(2) == "evaluation_orgs":     # the enumeration 機構類型 follows the file's script
            col = header.index("機構類型" if traditional else "机构类型")
            kinds = {row[col] for row in list(csv.reader(io.StringIO(text)))[1:] if len(row) == len(header)}
            assert kinds <= ({"社會評價組織", "用人單位", "院校"} if traditional else {"社会评价组织", "用人单位", "院校"}), rel
        seen[m.group(2)] += 1
        scripts[traditional] += 1
    assert seen["evaluation_orgs"] >= 7    # a full snapshot every day
    assert scripts[True] and scripts[False] > scripts[True]   # both scripts, mostly Simplified


def test_csv_encodings_are_what_faults_csv_says(run):
    f = faults(run)
    kinds = Counter()
    for p in sorted((run.landing / "assessment").rglob("*.csv")):
        rel = p.relative_to(run.landing).as_posix()
        _, enc = decode(p.read_bytes())
        kinds[enc] += 1
        for fault in ("utf8_bom", "encoding_gb18030"):
            assert ((rel, fault) in f) == (enc == fault), (rel, enc)
    assert kinds["utf8_bom"] and kinds["encoding_gb18030"] and kinds["utf-8"]


def _csv_fault_counts(text: str, kind: str) -> Counter:
    c = Counter()
    lines = text.splitlines()
    ncols = len(CSV_COLUMNS[kind])
    for cells in csv.reader(io.StringIO(text)):
        if not cells:
            continue
        if len(cells) < ncols:
            c["too_few_columns"] += 1
        elif len(cells) > ncols:
            c["too_many_columns"] += 1
        else:
            for cell in cells:
                if re.fullmatch(r" \d+(\.\d+)? ", cell):
                    c["number_spaces"] += 1
                if re.search(r"[０-９]", cell):
                    c["fullwidth_digits"] += 1
                if re.fullmatch(r"\d{4}/\d{2}/\d{2}( [\d:]+)?", cell):
                    c["bad_date_format"] += 1
    c["blank_lines"] = sum(1 for line in lines[1:] if line == "")
    return +c


def test_assessment_fault_counts_match_the_files(run):
    f = faults(run)
    total = Counter()
    for p in sorted((run.landing / "assessment").rglob("*.csv")):
        rel = p.relative_to(run.landing).as_posix()
        text, _ = decode(p.read_bytes())
        counted = _csv_fault_counts(text, p.stem)
        recorded = {k: v for (o, k), v in f.items() if o == rel and k not in
                    ("utf8_bom", "encoding_gb18030", "columns_reordered", "traditional_script")}
        assert dict(counted) == recorded, rel
        total.update(counted)
    for fault in ("blank_lines", "too_few_columns", "too_many_columns", "number_spaces", "fullwidth_digits",
                  "bad_date_format"):
        assert total[fault] > 0, fault


REQUIRED = {"status": {"state": str}, "headcount": {"count": int}, "face": {"score": (int, float)}}
TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00")


def test_video_files_follow_the_contract_and_faults_are_counted(run):
    f = faults(run)
    with psycopg.connect(run.url) as conn:
        cameras = {c for (c,) in conn.execute("select camera_id from cameras")}
    total, types, n_files, states = Counter(), Counter(), 0, set()
    ids_by_file: dict[str, set[str]] = {}
    for p in sorted((run.landing / "video").rglob("*.jsonl.gz")):
        rel = p.relative_to(run.landing).as_posix()
        m = re.fullmatch(r"video/date=(\d{4}-\d{2}-\d{2})/[\w.-]+\.jsonl\.gz", rel)
        assert m, rel
        n_files += 1
        raw = p.read_bytes()
        truncated = (rel, "truncated_gzip") in f
        if truncated:
            with pytest.raises((EOFError, zlib.error, OSError)):
                gzip.decompress(raw)
            data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw)
            lines = data.decode("utf-8", "replace").splitlines()[:-1]   # the last line is cut
        else:
            assert raw[4:8] == b"\0\0\0\0"      # gzip mtime 0: same input, same bytes
            lines = gzip.decompress(raw).decode("utf-8").splitlines()
        counted = Counter()
        ids = set()
        for line in lines:
            try:
                e = json.loads(line)
            except ValueError:
                counted["not_json"] += 1
                continue
            if e.get("type") not in REQUIRED:
                counted["unknown_type"] += 1
                continue
            need = {"event_id": str, "camera_id": str, "ts": str, **REQUIRED[e["type"]]}
            if any(not isinstance(e.get(k), t) for k, t in need.items()):
                counted["missing_field"] += 1
                continue
            if not TS.fullmatch(e["ts"]):
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", e["ts"])
                assert e["ts"][:10] == m.group(1)
                counted["ts_without_offset"] += 1
                continue
            if e["camera_id"] not in cameras:
                counted["unknown_camera"] += 1
                continue
            assert e["ts"][:10] == m.group(1), (rel, line)   # date= is the local date of the events
            if e["type"] == "status":
                assert e["state"] in ("online", "offline", "occluded", "tampered")
                states.add(e["state"])
            elif e["type"] == "headcount":
                assert e["count"] >= 0
            else:
                assert "trainee_id" in e and 0 <= e["score"] <= 1
            assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", e["event_id"])
            ids.add(e["event_id"])
            types[e["type"]] += 1
        ids_by_file[rel] = ids
        recorded = {k: v for (o, k), v in f.items() if o == rel and k != "truncated_gzip"}
        if not truncated:
            assert dict(counted) == recorded, rel
        total.update(counted)
    assert n_files and all(types[t] for t in REQUIRED)
    assert states == {"online", "offline", "occluded", "tampered"}
    for fault in ("not_json", "missing_field", "unknown_type", "unknown_camera", "ts_without_offset"):
        assert total[fault] > 0, fault
    assert any(k == "truncated_gzip" for _, k in f)
    # re-delivered files repeat event ids of the file they re-deliver
    for rel, ids in ids_by_file.items():
        if "-r2" in rel or "-resend" in rel:
            base = re.sub(r"-(r\d{8}|resend)\.jsonl\.gz$", ".jsonl.gz", rel)
            assert ids and ids <= ids_by_file[base], rel


def test_training_fault_counts_match_the_database(run):
    f = faults(run)
    with psycopg.connect(run.url) as conn:
        dangling = conn.execute("select count(*) from attendance a where not exists "
                                "(select 1 from sessions s where s.session_id = a.session_id)").fetchone()[0]
        fingerprint = conn.execute("select count(*) from attendance where method = 'fingerprint'").fetchone()[0]
        cams = conn.execute("select count(*) from cameras c where not exists "
                            "(select 1 from sites s where s.site_id = c.site_id)").fetchone()[0]
        enr = conn.execute("select count(*) from enrollments e where not exists "
                           "(select 1 from classes c where c.class_id = e.class_id)").fetchone()[0]
    assert dangling == f.get(("attendance", "dangling_fk"), 0) and dangling > 0
    assert fingerprint == f.get(("attendance", "out_of_enum"), 0)
    assert cams == f.get(("cameras", "dangling_fk"), 0)
    assert enr == f.get(("enrollments", "dangling_fk"), 0)


def test_the_simulated_systems_write_simplified(run):
    """Names, addresses and occupations in Simplified, as Shanghai's systems write them; Traditional
    only in the headers and 機構類型 of the files faults.csv marks traditional_script."""
    from tests.review.chinese_script import traditional_in

    with psycopg.connect(run.url) as conn:
        for table, col in (("occupations", "name"), ("institutions", "name"), ("sites", "address"),
                           ("trainees", "name")):
            text = "".join(v for (v,) in conn.execute(f"select {col} from {table}"))
            assert text and not traditional_in(text), (table, col, traditional_in(text))
        assert conn.execute("select count(*) from sites where address like '上海市%区%号'").fetchone()[0] > 0
    f = faults(run)
    for p in sorted((run.landing / "assessment").rglob("*.csv")):
        rel = p.relative_to(run.landing).as_posix()
        text, _ = decode(p.read_bytes())
        if (rel, "traditional_script") in f:
            body = "\n".join(text.splitlines()[1:])
            for word in ("社會評價組織", "用人單位", "備註"):
                body = body.replace(word, "")
            assert not traditional_in(body), (rel, traditional_in(body))
        else:
            assert not traditional_in(text), (rel, traditional_in(text))
