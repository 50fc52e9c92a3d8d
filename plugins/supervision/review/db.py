"""The review application's connections: a psycopg_pool pool of its login role, one transaction per use.

Every request's queries run in one transaction that starts with ``SET LOCAL ROLE`` to the
logged-in user's group role (``supervision_city`` or ``supervision_district_<code>``): the
application's login role itself sees no row of the alert table, so a code path that forgets the
role sees nothing rather than everything.

The pool checks a connection before lending it (``ConnectionPool.check_connection``: a server that
restarted costs a reconnect, not an error page) and resets it when it comes back (``RESET ROLE``:
a role set for the session rather than the transaction never reaches the next user).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from supervision.access.names import role_for
from supervision.config import settings

POOL_SIZE = 8
WAIT_SECONDS = 30.0


def _reset(conn: psycopg.Connection[DictRow]) -> None:
    """Back to the login role itself (the pool hands the connection back idle, and wants it idle)."""
    conn.autocommit = True
    try:
        conn.execute("reset role")
    finally:
        conn.autocommit = False


class Pool:
    """Connections as the application's login role (``conninfo``), at most ``size`` at once."""

    def __init__(self, conninfo: str, size: int = POOL_SIZE):
        self.conninfo = conninfo
        self.size = size
        self._pool: ConnectionPool[psycopg.Connection[DictRow]] = ConnectionPool(
            conninfo, connection_class=psycopg.Connection[DictRow], min_size=1, max_size=size,
            timeout=WAIT_SECONDS, name="supervision_review",
            kwargs={"autocommit": False, "row_factory": dict_row, "application_name": "supervision_review",
                    "options": f"-c timezone={settings().local_tz} -c statement_timeout=30000"},
            check=ConnectionPool.check_connection, reset=_reset, open=True)

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[DictRow]]:
        """A connection of the pool; what the block leaves uncommitted is rolled back on return."""
        with self._pool.connection() as conn:
            try:
                yield conn
            finally:
                if conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
                    conn.rollback()

    @contextlib.contextmanager
    def as_user(self, district_code: str | None) -> Iterator[psycopg.Connection[DictRow]]:
        """A transaction whose first statement sets the user's group role (city or district)."""
        role = role_for(district_code)   # whitelisted: raises on an unknown district
        with self.connection() as conn, conn.transaction():
            conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
            yield conn

    @contextlib.contextmanager
    def as_app(self) -> Iterator[psycopg.Connection[DictRow]]:
        """A transaction as the login role itself: login, throttling, no alert rows."""
        with self.connection() as conn, conn.transaction():
            yield conn

    def close(self) -> None:
        self._pool.close()
