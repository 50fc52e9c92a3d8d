"""`supervision serve` as a single-node deployment runs it: the scheduler with the LocalExecutor runs
the go-live night by itself, and nothing of it listens beyond the loopback interface.

Starts the real command in a scratch var folder (its own embedded PostgreSQL and Airflow home) on
the two simulated days the slow tests share (tests/simulated_run.py), deployed to go live on
their last day (``SUPERVISION_SCHEDULE_START`` = ``SUPERVISION_SCHEDULE_END``, catch-up on), and
waits until the Airflow API reports the scheduler, DAG processor and triggerer healthy and the
review application answers. Then:

- every listening socket of its process tree (and of the embedded server) is bound to 127.0.0.1
  or ::1;
- the four DAGs, unpaused with the Airflow CLI as a data engineer would (they are paused at
  creation), run that night as scheduled runs and all four succeed; as on a go-live, the night
  loads everything the sources hold up to its day, so its raw and quarantine counts equal the
  reference run's after the two days, gate results are stored and the alert table fills;
- SIGTERM (as systemd or `docker stop` sends it) stops it and leaves nothing of the tree running.

The simulated days are in 2024 and the scheduler's clock is today's: the catch-up makes the go-live
night one of them. The scheduler with the CeleryExecutor, a backfill and scheduled runs equal to
`supervision run`: tests/test_scheduler_and_celery.py.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests import simulated_run as sim
from tests.airflow_services import AIRFLOW, DAG_IDS, airflow_env_of, wait_for_runs
from tests.conftest import REPO, source_env
from tests.simulated_run import LAST, SENSOR_POKE_SECONDS, logical_date_of, raw_counts

pytestmark = [pytest.mark.slow, pytest.mark.simulated_days]

LOOPBACK = {"127.0.0.1", "::1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def _healthy(airflow_port: int, review_port: int) -> bool:
    try:
        status, body = _get(f"http://127.0.0.1:{airflow_port}/api/v2/monitor/health")
        if status != 200:
            return False
        health = json.loads(body)
        if any((health.get(c) or {}).get("status") != "healthy"
               for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")):
            return False
        return _get(f"http://127.0.0.1:{review_port}/")[0] < 500
    except (OSError, ValueError):
        return False


def _listening(procs: list[psutil.Process]) -> list[tuple[str, str, int]]:
    found = []
    for p in procs:
        try:
            conns = p.net_connections(kind="inet")
            name = " ".join(p.cmdline()[:3])
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        found += [(name, c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN]
    return found


@pytest.fixture
def var_dir(tmp_path):
    var = tmp_path / "var"
    yield var
    from supervision.config import Settings
    from supervision.warehouse import EmbeddedServer

    if (var / "pg").exists() or any(var.glob("*")):
        EmbeddedServer(Settings(home=REPO, var_dir=var)).destroy()


def _go_live_night(env: dict[str, str], timeout: float = 900) -> list[tuple]:
    """Unpause the four DAGs with the Airflow CLI and wait until the night's four scheduled runs
    have succeeded (the schedule ends that day: the scheduler creates no later run); every run."""
    airflow_env = airflow_env_of(env)
    for dag_id in DAG_IDS:
        subprocess.run([AIRFLOW, "dags", "unpause", dag_id], env=airflow_env, check=True, capture_output=True)
    metadata = sim.warehouse_url(env).rsplit("/", 1)[0] + "/airflow"
    return wait_for_runs(metadata, None, timeout, poll=3)


def test_supervision_serve_runs_the_go_live_night_and_listens_on_loopback_only(var_dir, simulated_sources,
                                                                                reference_run):
    review_port, airflow_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SUPERVISION_"))}
    env.update({"SUPERVISION_HOME": str(sim.HOME), "SUPERVISION_VAR_DIR": str(var_dir), **source_env(simulated_sources),
                "SUPERVISION_SCHEDULE_START": str(LAST), "SUPERVISION_SCHEDULE_END": str(LAST),
                "SUPERVISION_SCHEDULE_CATCHUP": "true", "SUPERVISION_SENSOR_POKE_SECONDS": SENSOR_POKE_SECONDS,
                "SUPERVISION_PII_KEY": "e2e-test-key",
                "PYTHONPATH": str(REPO / "plugins") + os.pathsep + os.environ.get("PYTHONPATH", "")})
    log = open(var_dir.parent / "serve.log", "w")  # noqa: SIM115 - closed in finally
    cli = Path(sys.executable).with_name("supervision")
    proc = subprocess.Popen([str(cli), "serve", "--port", str(review_port), "--airflow-port", str(airflow_port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    tree: list[psutil.Process] = []
    started = time.monotonic()
    try:
        while not _healthy(airflow_port, review_port):
            assert proc.poll() is None, (var_dir.parent / "serve.log").read_text()[-5000:]
            assert time.monotonic() - started < 420, "supervision serve did not come up in 7 minutes:\n" + \
                (var_dir.parent / "serve.log").read_text()[-5000:]
            time.sleep(2)
        print(f"supervision serve healthy after {time.monotonic() - started:.0f} s")
        time.sleep(5)  # the components' side servers (log servers, health checks) start with them
        root = psutil.Process(proc.pid)
        tree = [root, *root.children(recursive=True)]
        listening = _listening(tree)
        from supervision.config import Settings

        pg_port = Settings(home=REPO, var_dir=var_dir).embedded_port()
        listening += [("embedded postgres", c.laddr.ip, c.laddr.port) for c in psutil.net_connections("inet")
                      if c.status == psutil.CONN_LISTEN and c.laddr.port == pg_port]
        print("\n".join(f"{ip}:{port}  {name}" for name, ip, port in listening))
        ports = {port for _, _, port in listening}
        assert {review_port, airflow_port, pg_port} <= ports, listening  # the listing sees the servers
        beyond = [x for x in listening if x[1] not in LOOPBACK]
        assert not beyond, f"listening beyond the loopback interface: {beyond}"
        assert not ({8793, 8794} & ports), listening

        t = time.monotonic()
        runs = _go_live_night(env)
        print(f"the go-live night ({LAST}) through the scheduler (LocalExecutor): {time.monotonic() - t:.0f}s")
        assert {(r[0], r[1], r[2]) for r in runs} == {(d, logical_date_of(LAST), "scheduled") for d in DAG_IDS}, runs
        import psycopg

        with psycopg.connect(sim.warehouse_url(env)) as c:
            assert c.execute("select count(*) from marts.supervision_alerts").fetchone()[0] > 0
            gates = c.execute("select distinct run_id from ops.gx_validation_results where kind = 'gate'").fetchall()
            loaded = raw_counts(c)
        assert gates, "no gate results stored"
        assert loaded == {k: reference_run["fp"][k] for k in loaded}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait(10)
        log.close()
    assert rc == 0, (var_dir.parent / "serve.log").read_text()[-3000:]
    time.sleep(1)
    left = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not left, f"left running after SIGTERM: {[(p.pid, p.cmdline()[:3]) for p in left]}"
