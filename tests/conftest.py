"""Shared fixtures: a real PostgreSQL for every test that needs one.

By default the tests start their own embedded server (a fresh data folder under pytest's tmp),
so they never touch the demo's warehouse. ``SUPERVISION_TEST_PG_URL`` (an owner URL of any
PostgreSQL 15+ server, database part ignored) runs them against that server instead.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_folder() -> Path:
    """The contract's `shared/` folder: beside the project, or beside the project a local clone
    was made from (`git clone . /tmp/x` keeps that path as its origin)."""
    candidates = [REPO.parent / "shared"]
    try:
        origin = subprocess.run(["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        origin = ""
    if origin and "://" not in origin and ":" not in origin.split("/")[0]:
        candidates.append(Path(origin).resolve().parent / "shared")
    return next((c for c in candidates if (c / "contract").is_dir()), candidates[0])


SHARED = _shared_folder()
CONTRACT = SHARED / "contract"
CHECK_CONTRACT = SHARED / "tools" / "check_contract.py"


@pytest.fixture(scope="session", autouse=True)
def _lean_dbt_invocations() -> Iterator[None]:
    """The tests' own dbt invocations in this process (``supervision.dbt_runner.run_dbt``) write no
    debug file log and no manifest.json or run_results.json: about a second of each build (decision
    0055), and the repository's ``dbt_project/target/manifest.json`` stays the one `make` parsed. The
    runs the tests start in other processes (the CLI, Airflow's services) keep both."""
    from supervision import dbt_runner

    saved = list(dbt_runner.EXTRA_FLAGS)
    dbt_runner.EXTRA_FLAGS[:] = ["--log-level-file", "none", "--no-write-json"]
    yield
    dbt_runner.EXTRA_FLAGS[:] = saved


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory) -> Iterator[str]:
    """Owner URL (database ``postgres``) of a server that the tests may create databases in."""
    external = os.environ.get("SUPERVISION_TEST_PG_URL")
    if external:
        base = external.rsplit("/", 1)[0]
        yield base + "/postgres"
        return
    from supervision.config import Settings
    from supervision.warehouse import EmbeddedServer

    var = tmp_path_factory.mktemp("pgvar")
    server = EmbeddedServer(Settings(home=REPO, var_dir=var))
    server.start()
    try:
        yield server.url("postgres")
    finally:
        server.destroy()


# this process's part of scratch databases' names (two pytest processes may share one server)
_SCRATCH_TOKEN = uuid.uuid4().hex[:8]
_scratch_in_use: set[tuple[str, str]] = set()


@contextmanager
def scratch_database(admin_url: str, template: str | None = None, prefix: str = "t_") -> Iterator[str]:
    """URL of a new database on ``admin_url``'s server (a copy of ``template`` when given: CREATE
    DATABASE ... TEMPLATE); dropped afterwards.

    Its name is the lowest one of this process not in use (``t_<token>_0`` for most tests), so that
    one test after another connects dbt to the same database name: dbt keeps its partial parse only
    for the same connection (its profile's hash), and a full parse costs about 3 s a test."""
    import psycopg

    name = next(f"{prefix}{_SCRATCH_TOKEN}_{i}" for i in itertools.count()
                if (admin_url, f"{prefix}{_SCRATCH_TOKEN}_{i}") not in _scratch_in_use)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if template:
            # a template must have no other sessions (dbt's may linger until collected)
            conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (template,))
            conn.execute(f'create database "{name}" template "{template}"')
        else:
            conn.execute(f'create database "{name}"')
    _scratch_in_use.add((admin_url, name))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        _scratch_in_use.discard((admin_url, name))


def dbt_target(folder: Path) -> list[str]:
    """``--target-path`` arguments for a test's own dbt target folder, which starts with the
    project's saved partial parse: dbt reads it from the target folder and uses it when it was made
    for the same connection and vars; without one the test's first invocation parses the whole
    project (about 3 s)."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    saved = REPO / "dbt_project" / "target" / "partial_parse.msgpack"
    if saved.exists() and not (folder / saved.name).exists():
        shutil.copyfile(saved, folder / saved.name)
    return ["--target-path", str(folder)]


@pytest.fixture
def fresh_db(pg_admin_url) -> Iterator[str]:
    """URL of a new, empty database on the test server; dropped afterwards."""
    with scratch_database(pg_admin_url) as url:
        yield url


@pytest.fixture
def warehouse_db(fresh_db) -> str:
    """A fresh database with the warehouse schema (raw, ops, pii, alert table) created."""
    from supervision.warehouse import bootstrap

    bootstrap(fresh_db)
    return fresh_db


@pytest.fixture(scope="session")
def built_template(pg_admin_url) -> Iterator[str]:
    """Name of a database holding tests/dbt/raw_dataset.sql built as the marts DAG builds it (run date
    2024-03-05): phase 1, two alerts standing in for the upkeep, then the marts that count alerts.
    Built once per session; ``built_warehouse`` hands each test a copy (CREATE DATABASE ... TEMPLATE,
    a file copy of about a second, against a build of 20-30 s)."""
    import psycopg

    from supervision.dbt_runner import run_dbt
    from supervision.warehouse import bootstrap

    with scratch_database(pg_admin_url, prefix="tpl_") as url:
        bootstrap(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute((REPO / "tests" / "dbt" / "raw_dataset.sql").read_text(encoding="utf-8"))
        # phase 1 (as the marts DAG): everything but the marts that count alerts
        run_dbt(["build", "--exclude", "tag:after_alerts"], url, vars={"run_date": "2024-03-05"})
        # the alert upkeep (not dbt) then writes marts.supervision_alerts; two alerts stand in for it
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("""
                insert into marts.supervision_alerts (alert_id, rule_code, severity, entity_type, entity_key,
                    district_code, occurred_on, evidence, first_detected_at, last_detected_at)
                values ('a1', 'CAMERA_DOWN', 'medium', 'session', 'S2', '310104', '2024-03-02', '{}', now(), now()),
                       ('a2', 'ASSESSOR_DOUBLE_BOOKED', 'medium', 'assessor_exams', 'A2|EX1|EX2', '310104',
                        '2024-03-03', '{}', now(), now())""")
        run_dbt(["build", "--select", "tag:after_alerts"], url, vars={"run_date": "2024-03-05"})
        yield url.rsplit("/", 1)[1]


@pytest.fixture
def built_warehouse(pg_admin_url, built_template) -> Iterator[str]:
    """URL of a copy of ``built_template``'s database, the test's own."""
    with scratch_database(pg_admin_url, template=built_template) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_airflow_db(tmp_path_factory) -> Path:
    """An Airflow SQLite metadata database after ``airflow db migrate`` (about 4 s a time), made once a
    session; each test or module that needs one copies it into its own AIRFLOW_HOME
    (``airflow_home_with_db``)."""
    import sys

    from tests.test_airflow_guards import _airflow_env, _run

    home = tmp_path_factory.mktemp("airflow_migrated")
    (home / "dags").mkdir()
    _run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], _airflow_env(home, home / "dags"))
    return home / "airflow.db"


def airflow_home_with_db(home: Path, migrated_db: Path) -> Path:
    """``home`` (made if missing, with a dags folder) holding a copy of the migrated metadata database."""
    import shutil

    (home / "dags").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_db, home / "airflow.db")
    return home


PG15_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture(scope="session")
def pg15_admin_url(tmp_path_factory) -> Iterator[str]:
    """Owner URL of a PostgreSQL 15 server (Debian's binaries), the oldest version we support.

    `make test` installs Debian's postgresql package when it is missing and we are root."""
    if not (PG15_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 binaries not installed (apt-get install postgresql-15)")
    from supervision.config import Settings
    from supervision.warehouse import EmbeddedServer

    var = tmp_path_factory.mktemp("pg15var")
    server = EmbeddedServer(Settings(home=REPO, var_dir=var), bin_dir=PG15_BIN)
    server.start()
    try:
        yield server.url("postgres")
    finally:
        server.destroy()


@pytest.fixture
def smtp_sink():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every envelope: (handler, port)."""
    import socket

    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            self.messages.append(envelope)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Sink()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    yield handler, port
    ctl.stop()


# --- the simulated days the slow tests share (tests/simulated_run.py) -----------------------------

@pytest.fixture(scope="session")
def simulated_sources(tmp_path_factory) -> Iterator[dict[str, str]]:
    """The two simulated days' sources (landing folder and training database), read-only to
    every run: ``SUPERVISION_LANDING_URL`` and ``SUPERVISION_TRAINING_DB_URL``."""
    from supervision.pipeline import ensure_manifest
    from tests import simulated_run as sim

    ensure_manifest()
    sim.HOME = sim.copy_home(tmp_path_factory.mktemp("home"))
    var = tmp_path_factory.mktemp("sim_sources")
    env = sim.env_for(var)
    sim.cli(env, "warehouse", "start")
    try:
        sim.cli(env, "generate", "--start", str(sim.FIRST), "--end", str(sim.LAST), "--scale", sim.SCALE,
                "--seed", sim.SEED, "--anomaly-rate", sim.ANOMALY_RATE)
        yield {"SUPERVISION_LANDING_URL": str(var / "landing"),
               "SUPERVISION_TRAINING_DB_URL": sim.warehouse_url(env).rsplit("/", 1)[0] + "/training_platform",
               "labels": str(var / "simulator" / "labels.csv")}
    finally:
        sim.stop_warehouse(env)


def source_env(simulated_sources: dict[str, str]) -> dict[str, str]:
    """The sources' variables of ``simulated_sources`` (without its labels path)."""
    return {k: v for k, v in simulated_sources.items() if k.startswith("SUPERVISION_")}


@pytest.fixture(scope="session")
def reference_run(simulated_sources, tmp_path_factory) -> Iterator[dict]:
    """``supervision run`` over the two days on the embedded PostgreSQL, as one command: its
    environment, warehouse URL, fingerprint (alerts, marts, raw counts) and load audit counts,
    taken before any test touches it."""
    import time

    from tests import simulated_run as sim

    env = sim.env_for(tmp_path_factory.mktemp("sim_reference"), **source_env(simulated_sources))
    try:
        t = time.monotonic()
        res = sim.cli(env, "run", "--start", str(sim.FIRST), "--end", str(sim.LAST))
        seconds = time.monotonic() - t
        url = sim.warehouse_url(env)
        print(f"reference run of {sim.DAYS} days: {seconds:.0f}s\n{res.stdout[-800:]}")
        yield {"env": env, "url": url, "fp": sim.fingerprint(url), "audit": sim.audit_counts(url),
               "seconds": seconds}
    finally:
        sim.stop_warehouse(env)
