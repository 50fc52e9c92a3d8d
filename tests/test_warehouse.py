"""The embedded warehouse: start/stop/status, password authentication, schema bootstrap."""
from __future__ import annotations

import psycopg
import pytest

from supervision.config import Settings
from supervision.warehouse import EmbeddedServer, bootstrap
from tests.conftest import REPO


def test_embedded_server_lifecycle_and_auth(tmp_path):
    server = EmbeddedServer(Settings(home=REPO, var_dir=tmp_path / "var"))
    try:
        url = server.start()
        assert server.is_running() and server.status()["port"] == server.port
        assert url.startswith("postgresql://postgres:") and "@127.0.0.1:" in url
        with psycopg.connect(url) as c:
            assert c.execute("select current_database()").fetchone()[0] == "warehouse"
            assert c.execute("show listen_addresses").fetchone()[0] == "127.0.0.1"
            dbs = {r[0] for r in c.execute("select datname from pg_database")}
            assert {"warehouse", "training_platform", "airflow"} <= dbs
        # TCP needs the password, the owner's included
        bad = url.replace(server.password(), "wrong")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(bad)
        hba = (server.pgdata / "pg_hba.conf").read_text()
        host_lines = [ln for ln in hba.splitlines() if ln.startswith("host")]
        assert host_lines and all(ln.split()[-1] == "scram-sha-256" for ln in host_lines)
        assert server.start() == url, "start is idempotent"
        assert server.stop() is True and not server.is_running()
        assert server.stop() is False
        assert server.start() == url, "a restart keeps the port and the password"
    finally:
        server.destroy()
    assert not (tmp_path / "var" / "pgdata").exists()


def test_bootstrap_is_idempotent(warehouse_db):
    bootstrap(warehouse_db)
    with psycopg.connect(warehouse_db) as c:
        schemas = {r[0] for r in c.execute("select nspname from pg_namespace")}
        assert {"raw_training", "raw_video", "raw_assessment", "ops", "pii", "marts", "review"} <= schemas
        cols = dict(c.execute("""select column_name, data_type from information_schema.columns
                                  where table_schema = 'marts' and table_name = 'supervision_alerts'""").fetchall())
        assert cols["evidence"] == "jsonb" and cols["first_detected_at"] == "timestamp with time zone"


def test_bootstrap_beside_a_loader_takes_no_lock_the_loader_holds(warehouse_db, monkeypatch):
    """The loaders call bootstrap while other loaders write the audit tables (under the scheduler the
    three ingest DAGs run side by side): on an up-to-date warehouse it must not wait for them (an
    ALTER TABLE on ops.file_manifest would, and deadlocked a backfill's training pull)."""
    with psycopg.connect(warehouse_db) as loader:
        loader.execute("lock table ops.file_manifest, ops.load_audit in row exclusive mode")
        loader.execute("insert into ops.load_audit (run_id, source, object, started_at, status)"
                       " values ('r', 'video', 'f', now(), 'ok')")
        monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=3000")
        bootstrap(warehouse_db)  # raises LockNotAvailable if it needs a lock the loader holds
        loader.rollback()


def test_pg15_server_takes_the_same_schema(pg15_admin_url):
    """The oldest supported server: the warehouse DDL must apply on PostgreSQL 15 as on 18."""
    import uuid

    name = "t_" + uuid.uuid4().hex[:8]
    with psycopg.connect(pg15_admin_url, autocommit=True) as c:
        assert c.execute("show server_version_num").fetchone()[0].startswith("15")
        c.execute(f'create database "{name}"')
    url = pg15_admin_url.rsplit("/", 1)[0] + "/" + name
    bootstrap(url)
    bootstrap(url)
    with psycopg.connect(url) as c:
        assert c.execute("select to_regclass('marts.supervision_alerts')").fetchone()[0] is not None


def test_stop_with_an_external_warehouse_stops_the_embedded_metadata_server(tmp_path):
    """With SUPERVISION_WAREHOUSE_URL set, `supervision run` still starts the embedded server for
    Airflow's metadata: `warehouse stop` must stop it (it used to leave it running)."""
    import os
    import subprocess
    import sys

    var = tmp_path / "var"
    server = EmbeddedServer(Settings(home=REPO, var_dir=var))
    try:
        server.start()
        env = {**os.environ, "SUPERVISION_VAR_DIR": str(var),
               "SUPERVISION_WAREHOUSE_URL": "postgresql://someone:pw@127.0.0.1:1/elsewhere"}
        cli = [sys.executable, "-m", "supervision.cli", "warehouse", "stop"]
        first = subprocess.run(cli, env=env, capture_output=True, text=True, check=True)
        assert "stopped the embedded server" in first.stdout
        assert not server.is_running()
        second = subprocess.run(cli, env=env, capture_output=True, text=True, check=True)
        assert "not running" in second.stdout
    finally:
        server.destroy()
