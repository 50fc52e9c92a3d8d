"""Writing the training platform database: create the contract's tables, upsert row versions.

A row version replaces the stored one only when its updated_at is newer, so deliveries can be
written in any order and re-written without effect. PostgreSQL gets COPY into a temporary table and
one INSERT ... ON CONFLICT per table; any other SQLAlchemy database gets portable Core statements."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from supervision.simulator.formats import TABLES, ddl_columns, ddl_statements

INSERT_ONLY = {"attendance"}   # attendance rows never change: keep the first


def latest_versions(table: str, rows: Iterable[tuple]) -> list[tuple]:
    """One row per primary key: the one with the largest updated_at (the last column)."""
    cols, pk = ddl_columns()[table]
    idx = [cols.index(c) for c in pk]
    best: dict[tuple, tuple] = {}
    for r in rows:
        k = tuple(r[i] for i in idx)
        cur = best.get(k)
        if cur is None or r[-1] > cur[-1]:
            best[k] = r
    return [best[k] for k in sorted(best, key=lambda k: tuple(str(x) for x in k))]


def engine_for(url: str) -> sa.Engine:
    from supervision.config import sqlalchemy_url

    return sa.create_engine(sqlalchemy_url(url), future=True)


def ensure_schema(engine: sa.Engine) -> None:
    """Create the contract's tables that do not exist yet (statements of training_platform.sql)."""
    have = set(sa.inspect(engine).get_table_names())
    with engine.begin() as conn:
        for table, stmt in ddl_statements():
            if table not in have:
                conn.exec_driver_sql(stmt)


def is_empty(engine: sa.Engine) -> bool:
    have = set(sa.inspect(engine).get_table_names())
    if "occupations" not in have:
        return True
    with engine.connect() as conn:
        return conn.exec_driver_sql("select count(*) from occupations").scalar() == 0


def write_tables(engine: sa.Engine, tables: dict[str, list[tuple]]) -> dict[str, int]:
    """Upsert every table's rows; returns rows offered per table."""
    counts = {}
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            conn = raw.driver_connection
            assert conn is not None   # an open DBAPI connection always has its driver connection
            with conn.transaction():
                for table in TABLES:
                    rows = latest_versions(table, tables.get(table, []))
                    if rows:
                        _copy_upsert(conn, table, rows)
                    counts[table] = len(rows)
        finally:
            raw.close()
        return counts
    with engine.begin() as conn:
        for table in TABLES:
            rows = latest_versions(table, tables.get(table, []))
            counts[table] = len(rows)
            if rows:
                _portable_upsert(conn, table, rows)
    return counts


def _copy_upsert(conn, table: str, rows: list[tuple]) -> None:
    cols, pk = ddl_columns()[table]
    tmp = f"_sim_{table}"
    conn.execute(f"create temp table {tmp} (like {table} including defaults) on commit drop")
    with conn.cursor() as cur:
        with cur.copy(f"copy {tmp} ({', '.join(cols)}) from stdin") as cp:
            for r in rows:
                cp.write_row(r)
        if table in INSERT_ONLY:
            conflict = "do nothing"
        else:
            sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in pk)
            conflict = f"do update set {sets} where {table}.updated_at < excluded.updated_at"
        cur.execute(f"insert into {table} ({', '.join(cols)}) select {', '.join(cols)} from {tmp} "
                    f"on conflict ({', '.join(pk)}) {conflict}")


def _portable_upsert(conn: sa.Connection, table: str, rows: list[tuple]) -> None:
    """Delete older versions, insert newer ones. Untyped columns: values pass as the literals the
    contract's types accept (ISO dates and timestamps), whatever the dialect maps the DDL types to."""
    cols, pk = ddl_columns()[table]
    t = sa.table(table, *[sa.column(c) for c in cols])
    key_idx = [cols.index(c) for c in pk]
    chunk = 500
    for i in range(0, len(rows), chunk):
        part = rows[i:i + chunk]
        keys = {tuple(r[j] for j in key_idx): r for r in part}
        cond = sa.or_(*[sa.and_(*[t.c[c] == v for c, v in zip(pk, k, strict=True)]) for k in keys])
        existing = {tuple(str(x) for x in row[:-1]): str(row[-1])
                    for row in conn.execute(sa.select(*[t.c[c] for c in pk], t.c.updated_at).where(cond))}
        insert, delete = [], []
        for k, r in keys.items():
            old = existing.get(tuple(str(x) for x in k))
            if old is None:
                insert.append(r)
            elif table not in INSERT_ONLY and str(r[-1]) > old:
                delete.append(k)
                insert.append(r)
        for k in delete:
            conn.execute(sa.delete(t).where(sa.and_(*[t.c[c] == v for c, v in zip(pk, k, strict=True)])))
        if insert:
            conn.execute(sa.insert(t), [dict(zip(cols, r, strict=True)) for r in insert])
