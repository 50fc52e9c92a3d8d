"""Fixtures of the ingestion tests: a landing folder, a source database made from the contract's
DDL, and helpers to write contract-format files and to fingerprint warehouse tables."""
from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

PII_KEY = b"test-pii-key-0123456789"


@pytest.fixture
def landing(tmp_path) -> Path:
    p = tmp_path / "landing"
    p.mkdir()
    return p


@pytest.fixture
def source_db(pg_admin_url) -> Iterator[str]:
    """A training platform database (its own database, beside the warehouse) from the contract DDL."""
    from supervision.warehouse import ddl_text

    name = "src_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = pg_admin_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ddl_text("training_platform.sql"))
    try:
        yield url
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def write_jsonl_gz(landing: Path, day: str, name: str, lines: list[str | dict]) -> Path:
    folder = landing / "video" / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    text = "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n"
    path = folder / name
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    return path


def write_csv(landing: Path, day: str, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder = landing / "assessment" / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


EXCLUDED = {"_loaded_at", "_run_id", "loaded_at", "quarantined_at", "run_id"}


def fingerprint(url: str, table: str) -> tuple[int, str]:
    """(row count, md5 of the table's content) ignoring load-time bookkeeping columns."""
    schema, name = table.split(".")
    with psycopg.connect(url) as conn:
        cols = [r[0] for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
            " order by ordinal_position", (schema, name)) if r[0] not in EXCLUDED]
        expr = "row(" + ", ".join(cols) + ")::text"
        n, digest = conn.execute(f"select count(*), md5(coalesce(string_agg({expr}, '|' order by {expr}), ''))"
                                 f" from {table}").fetchone()
    return int(n), digest


def fingerprints(url: str, schemas: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as conn:
        tables = [f"{s}.{t}" for s, t in conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema = any(%s) and table_type = 'BASE TABLE'", (list(schemas),))]
    return {t: fingerprint(url, t) for t in sorted(tables) if t not in ("ops.load_audit",)}


def text_outside_pii(url: str, needles: list[str]) -> list[str]:
    """Every (table.column) outside the pii schema whose text contains one of ``needles``."""
    hits = []
    with psycopg.connect(url) as conn:
        cols = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where table_schema not in ('pii', 'pg_catalog', 'information_schema')"
            " and data_type in ('text', 'ARRAY', 'jsonb', 'character varying')").fetchall()
        for s, t, c in cols:
            for needle in needles:
                found = conn.execute(f'select 1 from "{s}"."{t}" where "{c}"::text like %s limit 1',
                                     (f"%{needle}%",)).fetchone()
                if found:
                    hits.append(f"{s}.{t}.{c} contains {needle!r}")
    return hits


def audit_rows(url: str, source: str) -> list[dict]:
    with psycopg.connect(url) as conn:
        cur = conn.execute("select object, received, loaded, duplicates, quarantined, skipped, status, message"
                           " from ops.load_audit where source = %s order by audit_id", (source,))
        names = [d.name for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def quarantine_reasons(url: str, source: str) -> dict[tuple[str, str], str]:
    with psycopg.connect(url) as conn:
        return {(o, loc): reason for o, loc, reason in conn.execute(
            "select object, locator, reason from ops.quarantine where source = %s", (source,))}
