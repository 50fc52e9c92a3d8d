"""sync_roles: idempotent, passwords kept in step, grants for tables dbt makes later, BI indexes."""
from __future__ import annotations

import psycopg
import pytest

from supervision.access import (
    BI_INDEXES,
    BI_ROLE,
    LOADER_ROLE,
    login_roles,
    password_env,
    role_url,
    sync_roles,
)
from tests.bi.conftest import connect_as
from tests.conftest import scratch_database

# ACL items are compared as sets: a grant revoked and made again moves to the end of the array.
SNAPSHOT_QUERIES = {
    "roles": """select rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication,
                       rolbypassrls, rolconnlimit, rolconfig
                from pg_roles where rolname like 'supervision\\_%' or rolname like 'reviewer\\_%' order by 1""",
    "memberships": """select g.rolname, u.rolname, m.admin_option from pg_auth_members m
                      join pg_roles g on g.oid = m.roleid join pg_roles u on u.oid = m.member
                      where u.rolname like 'supervision\\_%' or u.rolname like 'reviewer\\_%' order by 1, 2""",
    "schema_acls": "select nspname, array(select unnest(nspacl)::text order by 1) from pg_namespace order by 1",
    "table_acls": """select n.nspname, c.relname, array(select unnest(c.relacl)::text order by 1) from pg_class c
                     join pg_namespace n on n.oid = c.relnamespace
                     where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema' order by 1, 2""",
    "default_acls": "select defaclrole::regrole::text, defaclnamespace::regnamespace::text, defaclobjtype, "
                    "array(select unnest(defaclacl)::text order by 1) from pg_default_acl order by 1, 2, 3",
    "policies": "select schemaname, tablename, policyname, roles::text, cmd, qual from pg_policies order by 1, 2, 3",
    "indexes": "select tablename, indexname, indexdef from pg_indexes where schemaname = 'marts' order by 1, 2",
    "databases": "select datname, array(select unnest(datacl)::text order by 1) from pg_database order by 1",
}


def snapshot(url: str) -> dict[str, list]:
    with psycopg.connect(url) as c:
        return {k: c.execute(q).fetchall() for k, q in SNAPSHOT_QUERIES.items()}


def test_sync_roles_twice_changes_nothing(synced_warehouse):
    first = snapshot(synced_warehouse)
    assert {r[0] for r in first["roles"]} >= set(login_roles())
    sync_roles(synced_warehouse)
    second = snapshot(synced_warehouse)
    for key in SNAPSHOT_QUERIES:
        assert first[key] == second[key], key
    for role in login_roles():
        with connect_as(role, synced_warehouse) as c:
            assert c.execute("select current_user").fetchone()[0] == role


def test_passwords_follow_the_configuration(synced_warehouse, monkeypatch):
    monkeypatch.setenv(password_env(BI_ROLE), "first-Pw-1")
    sync_roles(synced_warehouse)
    old = role_url(BI_ROLE, synced_warehouse)
    assert ":first-Pw-1@" in old
    psycopg.connect(old).close()
    monkeypatch.setenv(password_env(BI_ROLE), "second-Pw-2")
    sync_roles(synced_warehouse)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(old).close()
    psycopg.connect(role_url(BI_ROLE, synced_warehouse)).close()


def test_role_url_keeps_host_port_database_and_query(monkeypatch):
    monkeypatch.setenv(password_env(BI_ROLE), "p@ss:w/rd")
    url = role_url(BI_ROLE, "postgresql+psycopg://owner:secret@db.example:6432/warehouse?sslmode=require")
    assert url == "postgresql+psycopg://supervision_bi:p%40ss%3Aw%2Frd@db.example:6432/warehouse?sslmode=require"
    assert password_env("reviewer_310101") == "SUPERVISION_REVIEWER_310101_PASSWORD"
    assert password_env(LOADER_ROLE) == "SUPERVISION_LOADER_PASSWORD"


def test_later_marts_are_readable_and_indexed_for_bi_filters(synced_warehouse):
    with psycopg.connect(synced_warehouse, autocommit=True) as owner:
        # made after sync_roles, as dbt does on every build: default privileges cover it
        owner.execute("create table marts.later_mart_probe (org_id text, district_code text, month date,"
                      " exams int, pass_rate numeric)")
        owner.execute("create view marts.alerts_by_rule as select rule_code, status, count(*) n "
                      "from marts.supervision_alerts group by 1, 2")
    with connect_as(BI_ROLE, synced_warehouse) as bi:
        bi.execute("select * from marts.later_mart_probe").fetchall()
        bi.execute("select * from marts.alerts_by_rule").fetchall()
    sync_roles(synced_warehouse)  # the pipeline's step after the build: indexes for the new table too
    with psycopg.connect(synced_warehouse) as c:
        tables = c.execute("""select c.relname, array_agg(a.attname::text)
                              from pg_class c join pg_namespace n on n.oid = c.relnamespace
                              join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                              where n.nspname = 'marts' and c.relkind = 'r' group by 1""").fetchall()
        missing = []
        for table, columns in tables:
            leading = [tuple(r[0]) for r in c.execute("""
                select array(select a.attname::text from unnest(i.indkey::int2[]) with ordinality k(n, o)
                             join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n order by k.o)
                from pg_index i where i.indrelid = %s::regclass""", (f"marts.{table}",))]
            for cols in BI_INDEXES:
                if set(cols) <= set(columns) and not any(ix[: len(cols)] == cols for ix in leading):
                    missing.append((table, cols))
        assert not missing, missing
        assert {"district_target_progress", "institution_scorecard", "later_mart_probe"} <= {t for t, _ in tables}


def test_loader_writes_raw_ops_pii_and_nothing_else(synced_warehouse):
    with connect_as(LOADER_ROLE, synced_warehouse) as c:
        c.execute("insert into ops.watermarks (source_table, high_water) values ('training.sessions', now())")
        c.execute("insert into ops.quarantine (source, object, locator, reason) values ('video', 'f', '1', 'x')")
        c.execute("insert into pii.exam_candidates values ('R1', '310101198503120421', '某人')")
        c.commit()
        for stmt in ("select * from marts.supervision_alerts", "create table raw_video.loader_made (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(stmt)
            c.rollback()


def test_roles_on_postgresql_15(pg15_admin_url):
    """The oldest server we support: roles, BI's read-only marts access and district RLS work there too."""
    from supervision.access import district_reviewer
    from supervision.warehouse import bootstrap

    with scratch_database(pg15_admin_url) as url:
        bootstrap(url)
        sync_roles(url)
        sync_roles(url)
        with psycopg.connect(url, autocommit=True) as owner:
            assert owner.execute("show server_version_num").fetchone()[0].startswith("15")
            for district in ("310101", "310104"):
                owner.execute("""insert into marts.supervision_alerts (alert_id, rule_code, severity, entity_type,
                                 entity_key, district_code, occurred_on, evidence, first_detected_at,
                                 last_detected_at) values (%s, 'CAMERA_DOWN', 'medium', 'session', %s, %s,
                                 '2024-03-01', '{}', now(), now())""", (district, district, district))
        with connect_as(BI_ROLE, url) as bi:
            assert bi.execute("select count(*) from marts.supervision_alerts").fetchone()[0] == 2
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute("select * from pii.trainees")
        with connect_as(district_reviewer("310104"), url) as c:
            assert c.execute("select district_code from marts.supervision_alerts").fetchall() == [("310104",)]


@pytest.mark.parametrize("table", ["supervision_alerts", "vacuumed_mart_probe"])
def test_a_vacuum_of_a_mart_does_not_deadlock_the_sync(synced_warehouse, table, monkeypatch):
    """A VACUUM ANALYZE of a mart (autovacuum, after dbt rebuilt it) holds SHARE UPDATE EXCLUSIVE on
    it and, at its end, updates the table's catalog row in place, waiting for any transaction that
    updated that row. A session stands in for it: it takes the table once the review application's
    security is installed (its own transaction, which locks the alert table first), holds it until
    the sync waits for the table (the alert policy; a BI index for a new mart), then updates the
    row. Had the sync granted on the table before waiting, that is a deadlock, and PostgreSQL fails
    one of the two."""
    import threading
    import time

    from supervision.access import sync as sync_module

    with psycopg.connect(synced_warehouse, autocommit=True) as owner:
        owner.execute("create table if not exists marts.vacuumed_mart_probe (district_code text, month date)")
    installed, locked = threading.Event(), threading.Event()
    install_security = sync_module.install_security

    def install_then_let_the_vacuum_in(url: str) -> None:
        install_security(url)
        installed.set()
        assert locked.wait(60)

    monkeypatch.setattr(sync_module, "install_security", install_then_let_the_vacuum_in)
    failed: list[BaseException] = []

    def sync() -> None:
        try:
            sync_roles(synced_warehouse)
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            failed.append(e)

    syncing = threading.Thread(target=sync)
    syncing.start()
    with psycopg.connect(synced_warehouse) as vacuum:
        assert installed.wait(60), failed
        vacuum.execute(f"lock table marts.{table} in share update exclusive mode")
        locked.set()
        deadline = time.monotonic() + 60
        while not vacuum.execute(
                "select exists (select from pg_locks where relation = %s::regclass and not granted)",
                (f"marts.{table}",)).fetchone()[0]:
            assert time.monotonic() < deadline and syncing.is_alive(), failed or "the sync never waited"
            time.sleep(0.05)
        try:
            vacuum.execute(f"alter table marts.{table} reset (fillfactor)")  # its catalog row, in place
        except psycopg.errors.DeadlockDetected as e:
            failed.append(e)
    syncing.join(timeout=120)
    assert not syncing.is_alive()
    assert not failed, failed
    with psycopg.connect(synced_warehouse) as c:
        assert c.execute("select count(*) from pg_policies where policyname = 'supervision_bi_read_all'"
                         ).fetchone()[0] == 1
        assert c.execute("select count(*) from pg_indexes where tablename = 'vacuumed_mart_probe'").fetchone()[0] >= 1
