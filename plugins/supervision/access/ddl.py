"""The statements every role goes through: create if missing, attributes, a password, memberships.

A password reaches the server only as a SCRAM-SHA-256 verifier computed here, on the client
(``PQencryptPasswordConn``): the plain text is never sent, so it can not appear in a server log,
``pg_stat_activity`` or ``pg_stat_statements``, whatever the server's ``password_encryption`` or
``log_statement`` settings.
"""
from __future__ import annotations

import re

from psycopg import sql

from supervision.access.logins import role_password

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# Attributes ``ensure_role`` may create a role with.
_CREATE_ATTRIBUTES = {"login", "nologin", "login noinherit"}


def ident(name: str) -> str:
    """A role, schema or database name we made ourselves, quoted; anything else is refused."""
    if not _NAME.match(name):
        raise ValueError(f"unexpected name {name!r}")
    return f'"{name}"'


def ensure_role(conn, role: str, attributes: str = "nologin") -> None:
    """Create the role if missing, race-safe (a concurrent creator wins quietly)."""
    if attributes not in _CREATE_ATTRIBUTES:
        raise ValueError(f"unexpected role attributes {attributes!r}")
    create = f"create role {ident(role)} {attributes}"
    conn.execute(sql.SQL("""
        do $$ begin
            if not exists (select from pg_roles where rolname = {name}) then
                begin
                    execute {create};
                exception when duplicate_object or unique_violation then null;
                end;
            end if;
        end $$""").format(name=sql.Literal(role), create=sql.Literal(create)))


def scram_verifier(conn, role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of ``password`` for ``role``, computed by libpq on the client."""
    return conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()


def set_password(conn, role: str, password: str) -> None:
    """``ALTER ROLE ... PASSWORD`` with a SCRAM verifier: the one way this project sets a password."""
    conn.execute(sql.SQL("alter role {} password {}").format(
        sql.Identifier(role), sql.Literal(scram_verifier(conn, role, password))))


def keep_only_memberships(conn, member: str, wanted: set[str]) -> None:
    """Grant ``member`` the groups in ``wanted`` and revoke any other membership it has."""
    have = {r[0] for r in conn.execute(
        "select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid "
        "join pg_roles u on u.oid = m.member where u.rolname = %s", (member,))}
    for group in sorted(have - wanted):
        conn.execute(f"revoke {ident(group)} from {ident(member)}")
    for group in sorted(wanted - have):
        conn.execute(f"grant {ident(group)} to {ident(member)}")


def login_role(conn, role: str, *, connection_limit: int, settings: dict[str, str]) -> None:
    """A login role with no special powers, its configured password and per-role settings."""
    ensure_role(conn, role, "login")
    conn.execute(f"alter role {ident(role)} with login nosuperuser nocreatedb nocreaterole noreplication "
                 f"nobypassrls inherit connection limit {int(connection_limit)}")
    set_password(conn, role, role_password(role))
    for name, value in settings.items():
        conn.execute(f"alter role {ident(role)} set {name} = '{value}'")


def schemas(conn) -> list[str]:
    """The database's own schemas (no system ones)."""
    return [r[0] for r in conn.execute(
        "select nspname from pg_namespace where nspname not in ('pg_catalog', 'information_schema') "
        "and nspname not like 'pg\\_%' order by 1")]
