"""Passwords reach the server only as SCRAM-SHA-256 verifiers, never in plain text.

A server of its own, logging every statement (``log_statement = 'all'``) and set to hash plain-text
passwords as md5 (``password_encryption = 'md5'``): if any role's password were sent in plain text,
it would be in the server's log and stored as an md5 hash. After creating and then updating every
role (``sync_roles``, which also makes the review application's login), the log holds no password
and every login's ``pg_authid.rolpassword`` is a SCRAM verifier that its configured password opens.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from supervision.access import APP_ROLE, login_roles, password_env, role_url, sync_roles
from tests.conftest import REPO

ROLES = (*login_roles(), APP_ROLE)


@pytest.fixture(scope="module")
def logging_server(tmp_path_factory) -> Iterator[tuple[str, object]]:
    """(owner URL of a fresh warehouse database, the server) on a private server logging every statement."""
    from supervision.config import Settings
    from supervision.warehouse import EmbeddedServer, bootstrap

    server = EmbeddedServer(Settings(home=REPO, var_dir=tmp_path_factory.mktemp("pgvar_log")))
    server.start()
    try:
        with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
            admin.execute("alter system set log_statement = 'all'")
            admin.execute("alter system set password_encryption = 'md5'")
            admin.execute("select pg_reload_conf()")
            admin.execute('create database "passwords"')
        url = server.url("passwords")
        bootstrap(url)
        yield url, server
    finally:
        server.destroy()


def _set_passwords(monkeypatch, tag: str) -> dict[str, str]:
    passwords = {role: f"Plain-{tag}-{uuid.uuid4().hex[:12]}-{role}" for role in ROLES}
    for role, password in passwords.items():
        monkeypatch.setenv(password_env(role), password)
    return passwords


def test_passwords_are_sent_and_stored_as_scram_verifiers_only(logging_server, monkeypatch):
    url, server = logging_server
    with psycopg.connect(url) as c:
        assert c.execute("show log_statement").fetchone()[0] == "all"
        assert c.execute("show password_encryption").fetchone()[0] == "md5"
    sent: list[str] = []
    for tag in ("create", "update"):   # roles made, then every password changed
        passwords = _set_passwords(monkeypatch, tag)
        sent += passwords.values()
        sync_roles(url)
    log = server.log_file.read_text(encoding="utf-8", errors="replace")
    leaked = [p for p in sent if p in log]
    assert not leaked, f"plain-text passwords in the server log: {leaked}"
    # the log did record the statements that set the passwords (so the absence above means something)
    assert log.count("password 'SCRAM-SHA-256$4096:") >= 2 * len(ROLES)
    assert 'alter role "supervision_app" password' in log
    with psycopg.connect(url) as c:
        stored = dict(c.execute("select rolname, rolpassword from pg_authid where rolname = any(%s)",
                                (list(ROLES),)).fetchall())
    assert set(stored) == set(ROLES)
    not_scram = {r: (p or "")[:14] for r, p in stored.items() if not (p or "").startswith("SCRAM-SHA-256$")}
    assert not not_scram, not_scram
    for role in (APP_ROLE, *login_roles()[:3]):   # the latest passwords open the logins
        with psycopg.connect(role_url(role, url)) as c:
            assert c.execute("select current_user").fetchone()[0] == role
