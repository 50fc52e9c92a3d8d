"""Airflow's real services for the slow tests and the benchmarks, on 127.0.0.1 and free ports.

    with AirflowServices(var_dir, sources, workers=2) as svc:   # CeleryExecutor, two workers
        svc.airflow("backfill", "create", ...)
        svc.wait_runs({(dag_id, logical_date), ...})

- the warehouse and the metadata database: the embedded PostgreSQL of ``var_dir`` (prepared as
  ``supervision serve`` prepares it: bootstrap, ``airflow db migrate``, dbt manifest);
- the api-server, scheduler, dag-processor and triggerer, each its own process group, output to
  ``<var_dir>/logs-services/<name>.log``; scheduler and triggerer without log servers (they bind
  every interface), the api-server reads task logs from the shared log folder;
- ``workers=0``: the LocalExecutor. ``workers=N``: the CeleryExecutor, a ``redis-server`` on
  127.0.0.1 (own data folder, no persistence) as broker, results in the metadata database, and N
  ``airflow celery worker`` processes, each with its own working folder (its cwd, ``TMPDIR`` and
  Cosmos cache under ``<var_dir>/workers/<name>``) and Celery hostname ``<name>@<machine>``, which
  the task instances record as their hostname (``airflow_env.task_hostname``).

The commands are those docs/DEPLOYMENT.md gives a data engineer ("Add a worker").
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import psycopg

from tests.simulated_run import CLI, env_for, warehouse_url

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAG_IDS = ("ingest_training_platform", "ingest_video_logs", "ingest_assessments", "supervision_marts")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def airflow_env_of(env: dict[str, str], celery_broker_url: str | None = None) -> dict[str, str]:
    """``env`` plus Airflow's variables as the package derives them from the settings in ``env``
    (``supervision.airflow_env.airflow_environ``, computed in a child process with that environment)."""
    out = subprocess.run([sys.executable, "-c", "import json, sys; from supervision.airflow_env import "
                          "airflow_environ; print(json.dumps(airflow_environ(celery_broker_url=sys.argv[1] "
                          "or None)))", celery_broker_url or ""],
                         env=env, capture_output=True, text=True, check=True).stdout
    return {**env, **json.loads(out.strip().splitlines()[-1])}


RUNS_SQL = "select dag_id, logical_date, run_type, state::text from dag_run order by logical_date, dag_id"


def wait_for_runs(metadata_url: str, expected: set[tuple[str, datetime]] | None, timeout: float, poll: float,
                  details=lambda: "", alive=lambda: None) -> list[tuple]:
    """Wait until every expected (dag_id, logical date) run of an Airflow metadata database has
    succeeded (``None``: one run of each of the four DAGs, the only runs); fail on the first failed
    one, with ``details()`` in the message. ``alive()`` asserts the services are still up.
    Returns every run."""
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(metadata_url) as c:
            runs = c.execute(RUNS_SQL).fetchall()
        mine = runs if expected is None else [r for r in runs if (r[0], r[1]) in expected]
        failed = [r for r in mine if r[3] == "failed"]
        assert not failed, f"failed runs {failed}:\n{details()}"
        wanted = len(DAG_IDS) if expected is None else len(expected)
        if len(mine) == wanted and all(r[3] == "success" for r in mine):
            return runs
        assert time.monotonic() < deadline, f"runs not done in {timeout}s: {runs}\n{details()}"
        alive()
        time.sleep(poll)


def redis_available() -> bool:
    return Path(REDIS_SERVER).exists()


class AirflowServices:
    def __init__(self, var: Path, sources: dict[str, str], workers: int = 0, worker_concurrency: int = 2,
                 extra_env: dict[str, str] | None = None):
        self.var = var
        self.api_port = free_port()
        # the task runners reach the api-server's execution API (Airflow's default: port 8080)
        self.env = env_for(var, **sources, **(extra_env or {}),
                           AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{self.api_port}/execution/")
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.workers = [f"worker{i + 1}" for i in range(workers)]
        self.worker_concurrency = worker_concurrency
        self.logs = var / "logs-services"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen] = {}
        self.redis_url: str | None = None
        self.metadata_url = ""
        self.airflow_env: dict[str, str] = {}

    # --- start and stop --------------------------------------------------------------------------

    def start(self, timeout: float = 300) -> AirflowServices:
        res = subprocess.run([sys.executable, "-c", "from supervision.pipeline import prepare_environment; "
                              "prepare_environment()"], env=self.env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"prepare_environment:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
        self.metadata_url = warehouse_url(self.env).rsplit("/", 1)[0] + "/airflow"
        if self.workers:
            self._start_redis()
        self.airflow_env = airflow_env_of(self.env, self.redis_url)
        self._spawn("api-server", ["api-server", "-H", "127.0.0.1", "-p", str(self.api_port)])
        self._spawn("scheduler", ["scheduler", "--skip-serve-logs"])
        self._spawn("dag-processor", ["dag-processor"])
        self._spawn("triggerer", ["triggerer", "--skip-serve-logs"])
        for name in self.workers:
            self.start_worker(name)
        self.wait_ready(timeout)
        return self

    def worker_command(self, name: str) -> list[str]:
        """One more Celery worker: its own node name, no log server (the logs are shared here)."""
        return [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h",
                "--concurrency", str(self.worker_concurrency), "--skip-serve-logs"]

    def start_worker(self, name: str) -> None:
        work = self.var / "workers" / name
        (work / "tmp").mkdir(parents=True, exist_ok=True)
        env = {**self.airflow_env, "TMPDIR": str(work / "tmp"), "AIRFLOW__COSMOS__CACHE_DIR": str(work / "cosmos")}
        self._spawn(name, self.worker_command(name)[1:], env=env, cwd=work)

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.procs[name] = subprocess.Popen([AIRFLOW, *args], env=env or self.airflow_env, cwd=cwd or self.var,
                                            stdout=(self.logs / f"{name}.log").open("wb"),
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def _start_redis(self) -> None:
        port, data = free_port(), self.var / "redis"
        data.mkdir(exist_ok=True)
        self.procs["redis"] = subprocess.Popen(
            [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data), "--save", "",
             "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no"],
            stdout=(self.logs / "redis.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"redis-server did not answer:\n{self.tail('redis')}")

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                assert p.poll() is None, f"{name} exited ({p.returncode}):\n{self.tail(name)}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health",
                                            timeout=5) as r:
                    health = json.load(r)
                with psycopg.connect(self.metadata_url) as c:
                    parsed = {r[0] for r in c.execute("select dag_id from serialized_dag")}
                if health["scheduler"]["status"] == "healthy" and set(DAG_IDS) <= parsed \
                        and set(self.workers) <= self.celery_workers():
                    return
            except (OSError, KeyError, psycopg.Error):
                pass
            time.sleep(3)
        raise AssertionError(f"services not ready in {timeout}s:\n" + "\n".join(self.tail(n) for n in self.procs))

    def celery_workers(self) -> set[str]:
        """Names of the Celery workers that answer a ping."""
        if not self.workers:
            return set()
        res = subprocess.run([str(Path(sys.executable).with_name("celery")), "--app",
                              "airflow.providers.celery.executors.celery_executor.app", "inspect", "ping",
                              "--json", "--timeout", "3"], env=self.airflow_env, capture_output=True, text=True)
        try:
            return {name.split("@")[0] for name in json.loads(res.stdout.strip().splitlines()[-1])}
        except (ValueError, IndexError):
            return set()

    def stop(self) -> None:
        for p in self.procs.values():  # LocalExecutor and Celery children: stop each process group
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        for p in self.procs.values():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        subprocess.run([*CLI, "warehouse", "stop"], env=self.env, capture_output=True)

    def __enter__(self) -> AirflowServices:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs.values()]

    # --- driving and watching -------------------------------------------------------------------

    def airflow(self, *args: str) -> str:
        res = subprocess.run([AIRFLOW, *args], env=self.airflow_env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, f"airflow {' '.join(args)}:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
        return res.stdout

    def backfill(self, first: str, last: str, dag_ids: tuple[str, ...] = DAG_IDS, hold: bool = True) -> None:
        """`airflow backfill create` of the business days first..last (ISO dates) for each DAG, then
        the DAGs unpaused (tasks of a paused DAG are not queued, backfill runs included).

        Unpausing makes the scheduler run the next day of the schedule unless that day already has
        a run. With ``hold`` (days of 2024 on simulated sources, catch-up off: that day is
        yesterday, which the sources do not hold), that day gets a run marked successful first, as
        a data engineer would mark a day not to run (UI: Mark as success), so the scheduler starts
        nothing beside the backfill. Without it the scheduler runs its day too."""
        for dag_id in dag_ids:
            self.airflow("backfill", "create", "--dag-id", dag_id, "--from-date", first,
                         "--to-date", f"{last}T23:59:59", "--max-active-runs", "1")
        for dag_id in dag_ids:
            if hold:
                self.hold_next_scheduled_run(dag_id)
        for dag_id in dag_ids:
            self.airflow("dags", "unpause", dag_id)

    def hold_next_scheduled_run(self, dag_id: str) -> None:
        """The run the scheduler would create next for ``dag_id``, made now and marked successful
        (no task runs), unless a run of that logical date exists."""
        nxt = self.query(f"select next_dagrun from dag where dag_id = '{dag_id}'")[0][0]
        if nxt is None or self.query(f"select 1 from dag_run where dag_id = '{dag_id}' "
                                     f"and logical_date = '{nxt.isoformat()}'"):
            return
        self.airflow("dags", "trigger", dag_id, "--logical-date", nxt.isoformat(), "--run-id", "held_catchup")
        with psycopg.connect(self.metadata_url) as c:
            c.execute("update dag_run set state = 'success', end_date = now() "
                      "where dag_id = %s and run_id = 'held_catchup'", (dag_id,))

    def query(self, sql: str) -> list[tuple]:
        with psycopg.connect(self.metadata_url) as c:
            return c.execute(sql).fetchall()

    def runs(self) -> list[tuple]:
        return self.query(RUNS_SQL)

    def wait_runs(self, expected: set[tuple[str, datetime]], timeout: float = 1800, poll: float = 5) -> list[tuple]:
        """Wait until every (dag_id, logical date) has a successful run; fail on the first failed one."""
        def alive() -> None:
            for name, p in self.procs.items():
                assert p.poll() is None, f"{name} exited ({p.returncode}):\n{self.tail(name)}"

        return wait_for_runs(self.metadata_url, expected, timeout, poll,
                             details=lambda: f"{self.failed_tasks()}\n{self.tail('scheduler')}", alive=alive)

    def failed_tasks(self) -> list[tuple]:
        return self.query("select dag_id, run_id, task_id, state::text, hostname from task_instance "
                          "where state in ('failed', 'upstream_failed')")

    def tail(self, name: str, n: int = 40) -> str:
        log = self.logs / f"{name}.log"
        lines = log.read_text(errors="replace").splitlines()[-n:] if log.exists() else []
        return f"--- {name} ---\n" + "\n".join(lines)
