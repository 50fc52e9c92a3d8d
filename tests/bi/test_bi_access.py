"""The BI role as a BI tool sees it: the marts with their descriptions, and nothing else.

Connects as ``supervision_bi`` over TCP with its password (as Superset or Metabase do), introspects with
SQLAlchemy's inspector, queries every mart, and is refused everywhere else. A scan of every column the
role can read finds none of the plain ID numbers, names and phones seeded into ``pii``.
"""
from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, timezone

import psycopg
import pytest
from sqlalchemy import create_engine, inspect, text

from supervision.access import BI_ROLE, role_url
from supervision.config import sqlalchemy_url
from tests.bi.conftest import connect_as

FORBIDDEN_SCHEMAS = ("raw_training", "raw_video", "raw_assessment", "ops", "pii", "staging",
                     "intermediate", "core", "rules", "review")
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


# --- seeded personal data ------------------------------------------------------------------------

def id_number(prefix17: str) -> str:
    """A resident ID number with a right GB 11643-1999 check character."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(prefix17, weights, strict=True))
    return prefix17 + "10X98765432"[total % 11]


def looks_like_id_number(s: str) -> bool:
    return bool(re.fullmatch(r"\d{17}[\dX]", s)) and id_number(s[:17]) == s and 1900 <= int(s[6:10]) <= 2100


PEOPLE = [  # (trainee_id, id_number, name, phone)
    ("T0001", id_number("31010119850312042"), "張偉明", "13812345678"),
    ("T0002", id_number("31011519990101123"), "李秀英", "15900001111"),
    ("T0003", id_number("31010420010630004"), "王芳", None),
]
ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
PHONE_PATTERN = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def seed_people(url: str) -> None:
    """Plain values into pii.*, their pseudonymised forms into raw and the alert table (as the loaders do)."""
    now = datetime(2024, 3, 1, tzinfo=timezone.utc)
    with psycopg.connect(url, autocommit=True) as c:
        for tid, idn, name, phone in PEOPLE:
            c.execute("insert into pii.trainees values (%s, %s, %s, %s, %s)", (tid, idn, name, phone, now))
            c.execute("insert into pii.exam_candidates values (%s, %s, %s)", ("R" + tid, idn, name))
            masked = idn[:6] + "********" + idn[-4:]
            c.execute("""insert into raw_training.trainees (trainee_id, person_key, id_masked, id_format_ok,
                         id_birth_date, id_check_ok, gender, birth_date, has_phone, updated_at)
                         values (%s, %s, %s, true, %s, true, 'F', %s, %s, %s)""",
                      (tid, uuid.uuid4().hex * 2, masked, date(1985, 3, 12), date(1985, 3, 12),
                       phone is not None, now))
            c.execute("""insert into marts.supervision_alerts (alert_id, rule_code, severity, entity_type,
                         entity_key, district_code, occurred_on, evidence, first_detected_at, last_detected_at)
                         values (%s, 'INVALID_ID_NUMBER', 'low', 'trainee', %s, %s, '2024-03-01', %s, %s, %s)""",
                      (uuid.uuid4().hex[:20], tid, idn[:6], json.dumps({"id_masked": masked}), now, now))
        c.execute("insert into ops.quarantine (source, object, locator, reason, raw_text) values "
                  "('training', 'trainees', 'T0001', 'enum:gender', %s)", (json.dumps(PEOPLE[0]),))
        c.execute("""insert into marts.district_target_progress values
                     ('310101', '2024-03-01', 'subsidised_training', 12, 30, null, null)""")


def readable_columns(conn) -> dict[tuple[str, str], list[str]]:
    """Every (schema, table) -> columns the connected role may SELECT, outside the system catalogs."""
    rows = conn.execute("""
        select n.nspname, c.relname, a.attname
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where c.relkind in ('r', 'v', 'm', 'p', 'f')
          and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
          and has_schema_privilege(n.oid, 'USAGE')
          and has_column_privilege(c.oid, a.attnum, 'SELECT')
        order by 1, 2, a.attnum""").fetchall()
    out: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        out.setdefault((schema, table), []).append(column)
    return out


def personal_data_found(conn, needles: list[str]) -> list[str]:
    """Scan every readable value (and every comment) for the needles, plain ID numbers and phones."""
    found = []
    texts: list[tuple[str, str]] = []
    for (schema, table), columns in readable_columns(conn).items():
        cols = ", ".join(f'"{c}"::text' for c in columns)
        for row in conn.execute(f'select {cols} from "{schema}"."{table}"'):
            for column, value in zip(columns, row, strict=True):
                if value is not None:
                    texts.append((f"{schema}.{table}.{column}", value))
    for (desc,) in conn.execute("select description from pg_description"):
        texts.append(("comment", desc))
    for where, value in texts:
        hits = [n for n in needles if n in value]
        hits += [m for m in ID_PATTERN.findall(value) if looks_like_id_number(m.upper())]
        hits += PHONE_PATTERN.findall(value)
        found += [f"{where}: {h}" for h in hits]
    return found


def needles(url: str) -> list[str]:
    """The plain values actually in pii (as the owner reads them)."""
    with psycopg.connect(url) as c:
        vals = c.execute("""select id_number, name, phone from pii.trainees
                            union all select id_number, name, null from pii.exam_candidates""").fetchall()
    return sorted({v for row in vals for v in row if v})


# --- tests ---------------------------------------------------------------------------------------

def test_bi_tool_introspection_sees_marts_with_descriptions_and_can_query_every_one(synced_warehouse):
    engine = create_engine(sqlalchemy_url(role_url(BI_ROLE, synced_warehouse)))
    try:
        insp = inspect(engine)
        schemas = insp.get_schema_names()
        assert "marts" in schemas
        with engine.connect() as conn:
            usable = {s for s in schemas
                      if conn.execute(text("select has_schema_privilege(:s, 'USAGE')"), {"s": s}).scalar()}
        assert usable - set(SYSTEM_SCHEMAS) == {"marts"}, usable

        relations = insp.get_table_names(schema="marts") + insp.get_view_names(schema="marts") \
            + insp.get_materialized_view_names(schema="marts")
        assert {"supervision_alerts", "district_target_progress"} <= set(relations)
        undocumented = []
        for name in relations:
            if not (insp.get_table_comment(name, schema="marts").get("text") or "").strip():
                undocumented.append(name)
            columns = insp.get_columns(name, schema="marts")
            assert columns, name
            undocumented += [f"{name}.{c['name']}" for c in columns if not (c.get("comment") or "").strip()]
        assert not undocumented, f"marts objects without a comment: {undocumented}"

        with engine.connect() as conn:
            for name in relations:
                conn.execute(text(f'select * from marts."{name}" limit 5')).fetchall()
    finally:
        engine.dispose()


def test_bi_role_is_refused_on_every_other_schema(synced_warehouse):
    with psycopg.connect(synced_warehouse, autocommit=True) as owner:
        for schema in FORBIDDEN_SCHEMAS:  # dbt's and the review app's schemas may not be built here
            owner.execute(f'create schema if not exists "{schema}"')
            owner.execute(f'create table if not exists "{schema}".standin_probe (id int)')
            owner.execute(f'insert into "{schema}".standin_probe values (1)')
        tables = owner.execute("""select table_schema, table_name from information_schema.tables
                                  where table_schema = any(%s)""", (list(FORBIDDEN_SCHEMAS),)).fetchall()
    assert {s for s, _ in tables} == set(FORBIDDEN_SCHEMAS)
    with connect_as(BI_ROLE, synced_warehouse, autocommit=True) as bi:
        for schema, table in tables:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute(f'select * from "{schema}"."{table}" limit 1')
        assert {s for s, _ in readable_columns(bi)} == {"marts"}


def test_bi_role_can_not_write_create_or_reach_the_airflow_database(synced_warehouse):
    with connect_as(BI_ROLE, synced_warehouse, autocommit=True) as bi:
        assert bi.execute("show default_transaction_read_only").fetchone()[0] == "on"
        assert bi.execute("show statement_timeout").fetchone()[0] != "0"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            bi.execute("delete from marts.supervision_alerts")
    # read-only by default is a guard; the boundary is the privileges: a read-write transaction is refused too
    with connect_as(BI_ROLE, synced_warehouse) as bi:
        for stmt in ("delete from marts.supervision_alerts", "create table marts.bi_made (x int)",
                     "create table public.bi_made (x int)", "update marts.supervision_alerts set status = 'resolved'"):
            with bi.transaction():
                bi.execute("set transaction read write")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    bi.execute(stmt)
    base = synced_warehouse.rsplit("/", 1)[0]
    with psycopg.connect(base + "/postgres", autocommit=True) as admin:
        has_airflow = admin.execute("select 1 from pg_database where datname = 'airflow'").fetchone()
    if not has_airflow:
        pytest.skip("no 'airflow' database on this server")
    from supervision.access import role_url as url_of

    airflow_url = url_of(BI_ROLE, synced_warehouse).rsplit("/", 1)[0] + "/airflow"
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(airflow_url).close()


def test_no_plain_id_number_name_or_phone_is_readable_by_bi(synced_warehouse):
    seed_people(synced_warehouse)
    plain = needles(synced_warehouse)
    assert len(plain) >= 8  # 3 ID numbers, 3 names, 2 phones
    with connect_as(BI_ROLE, synced_warehouse) as bi:
        readable = readable_columns(bi)
        assert ("marts", "supervision_alerts") in readable
        assert personal_data_found(bi, plain) == []
    # the same scan as the owner finds them all in pii (the scan is not blind)
    with psycopg.connect(synced_warehouse) as owner:
        hits = personal_data_found(owner, plain)
    for value in plain:
        assert any(h.startswith("pii.") and h.endswith(value) for h in hits), value


def test_a_mart_leaking_a_plain_id_number_would_be_caught(synced_warehouse):
    """A table dbt makes later in marts is readable by BI (default privileges), and the scan sees it."""
    seed_people(synced_warehouse)
    with psycopg.connect(synced_warehouse, autocommit=True) as owner:
        owner.execute("create table marts.leak_probe as select trainee_id, id_number from pii.trainees")
    with connect_as(BI_ROLE, synced_warehouse) as bi:
        found = personal_data_found(bi, needles(synced_warehouse))
    assert any(f.startswith("marts.leak_probe.id_number") for f in found), found
