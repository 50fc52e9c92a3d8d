"""The review schema and the application's database access.

Every request's queries run in one transaction that starts with ``SET LOCAL ROLE`` to the
logged-in user's group role (``supervision_city`` or ``supervision_district_<code>``): the
application's login role itself sees no row of the alert table, so a code path that forgets the
role sees nothing rather than everything.
"""
from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from supervision.review.security import role_for

SCHEMA_FILE = Path(__file__).with_name("schema.sql")


def install(warehouse_url: str | None = None) -> None:
    """Create or update the review schema (tables, audit trigger, functions, list indexes). Idempotent.

    Applies the warehouse's own DDL first (the alert table and raw layer it indexes)."""
    from supervision.warehouse import bootstrap, connect

    bootstrap(warehouse_url)
    with connect(warehouse_url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(7400079)")
        try:
            conn.execute(SCHEMA_FILE.read_text(encoding="utf-8"))
        finally:
            conn.execute("select pg_advisory_unlock(7400079)")


class Pool:
    """A small, thread-safe pool of connections as the application's login role."""

    def __init__(self, conninfo: str, size: int = 8):
        self.conninfo = conninfo
        self.size = size
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._count = 0
        self._lock = threading.Lock()
        self._sem = threading.BoundedSemaphore(size)

    def _new(self) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, autocommit=False, row_factory=dict_row,
                               application_name="supervision_review",
                               options="-c timezone=Asia/Shanghai -c statement_timeout=30000")

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        if not self._sem.acquire(timeout=30):
            raise RuntimeError("no database connection free for 30 s")
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
                if conn.closed:
                    conn = self._new()
            except queue.Empty:
                conn = self._new()
            yield conn
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.rollback()
            self._idle.put(conn)
            conn = None
        finally:
            if conn is not None:   # an error: the connection's state is unknown, drop it
                with contextlib.suppress(Exception):
                    conn.close()
            self._sem.release()

    @contextlib.contextmanager
    def as_user(self, district_code: str | None) -> Iterator[psycopg.Connection]:
        """A transaction whose first statement sets the user's group role (city or district)."""
        role = role_for(district_code)   # whitelisted: raises on an unknown district
        with self.connection() as conn, conn.transaction():
            conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
            yield conn

    @contextlib.contextmanager
    def as_app(self) -> Iterator[psycopg.Connection]:
        """A transaction as the login role itself: login, throttling, no alert rows."""
        with self.connection() as conn, conn.transaction():
            yield conn

    def close(self) -> None:
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                return
            with contextlib.suppress(Exception):
                conn.close()
