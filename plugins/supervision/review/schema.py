"""The review schema (``schema.sql``): tables, the append-only audit trigger, the login and link
functions, list indexes. Roles, grants and policies on it are ``supervision.access.rls``'s."""
from __future__ import annotations

from pathlib import Path

SCHEMA_FILE = Path(__file__).with_name("schema.sql")


def install(warehouse_url: str | None = None) -> None:
    """Create or update the review schema. Idempotent.

    Applies the warehouse's own DDL first (the alert table and raw layer it indexes)."""
    from supervision.warehouse import bootstrap, connect

    bootstrap(warehouse_url)
    with connect(warehouse_url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(7400079)")
        try:
            conn.execute(SCHEMA_FILE.read_text(encoding="utf-8"))
        finally:
            conn.execute("select pg_advisory_unlock(7400079)")
