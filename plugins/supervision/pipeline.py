"""`supervision run`: every pipeline for each day, executed by Airflow's own machinery.

Each day is a real DAG run of each DAG in ``dags/`` (the three ingestion DAGs, then the marts DAG),
executed in this process by ``DAG.test()``: Airflow's scheduler loop for one run (dependency
checks, retries with their delays, XCom, Assets, mapped tasks) with each task run through the Task
SDK's in-process supervisor. Measured on this machine: the in-process execution API costs 2-5 s
to start, once per process (the runner starts it with the environment, not in the first task),
every task ~0.1 s; the LocalExecutor path needs an API server and a scheduler beside it and costs a
process start per task. So one warm process runs all the days (README: "Why dag.test()").

A day whose DAG run fails stops the command (later days build on it) with exit status 1; running
the same command again re-runs the failed day from the start (DAG.test replaces the day's run) and
goes on. Every task is idempotent for its day, so re-running days changes nothing.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from supervision.heap import startup_heap

INGEST_DAGS = ("ingest_training_platform", "ingest_video_logs", "ingest_assessments")
MARTS_DAG = "supervision_marts"


@dataclass
class DayResult:
    day: date
    ok: bool = True
    seconds: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def _days(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def prepare_environment() -> None:
    """Warehouse up and bootstrapped, Airflow configured and migrated, dbt manifest fresh."""
    from supervision.airflow_env import apply_airflow_environ, migrate_metadata
    from supervision.config import settings
    from supervision.warehouse import EmbeddedServer, bootstrap

    s = settings()
    if not s.external_warehouse or not s.external_airflow_db:
        # the embedded server holds the Airflow metadata DB (and the warehouse unless replaced)
        EmbeddedServer(s).start()
    bootstrap(s.warehouse_url())
    apply_airflow_environ(s)
    migrate_metadata(s)
    ensure_manifest()



def ensure_manifest() -> None:
    """Build dbt_project/target/manifest.json when any project file is newer (Cosmos reads it at parse)."""
    from supervision.config import settings

    project = settings().dbt_project_dir
    manifest = project / "target" / "manifest.json"
    sources = [p for pat in ("**/*.sql", "**/*.yml", "**/*.csv") for p in project.glob(pat)
               if "target" not in p.parts and "logs" not in p.parts]
    newest = max((p.stat().st_mtime for p in sources), default=0)
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return
    from supervision.dbt_runner import build_manifest

    build_manifest()


def _quiet_airflow_logging() -> None:
    for name in ("airflow", "airflow.task", "airflow.sdk", "cosmos", "airflow.models.dagrun",
                 "airflow.api_fastapi", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)


def load_dags() -> dict:
    from airflow.dag_processing.dagbag import DagBag

    from supervision.config import settings

    bag = DagBag(str(settings().dags_dir))
    if bag.import_errors:
        msgs = "\n".join(f"{k}: {v.strip().splitlines()[-1]}" for k, v in bag.import_errors.items())
        raise RuntimeError(f"DAG files failed to import:\n{msgs}")
    missing = [d for d in (*INGEST_DAGS, MARTS_DAG) if d not in bag.dags]
    if missing:
        raise RuntimeError(f"DAGs not found in {settings().dags_dir}: {missing}")
    return bag.dags


def _start_in_process_api() -> None:
    """Start the Task SDK's in-process execution API now, not in the first task: every ``DAG.test()``
    task of this process calls it (one per process, cached by Airflow), and its start (FastAPI and
    Cadwyn building the versioned routes, 2-3 s) allocates hundreds of thousands of long-lived
    objects, which the startup's paused collector then does not re-traverse (supervision.heap)."""
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    in_process_api_server().transport  # noqa: B018 - the property starts the app, its loop and lifespan


def day_interval(dag, day: date):
    """The logical date and data interval the scheduler gives ``dag``'s run for business day ``day``:
    the interval of its timetable that starts on ``day`` (``dag_support.daily_timetable``)."""
    import pendulum
    from airflow.serialization.encoders import coerce_to_core_timetable

    from supervision.config import settings

    s = settings()
    end = pendulum.datetime(day.year, day.month, day.day, s.daily_run_hour, tz=s.local_tz).add(days=1)
    interval = coerce_to_core_timetable(dag.timetable).infer_manual_data_interval(run_after=end)
    if pendulum.instance(interval.start).in_timezone(s.local_tz).date() != day:
        raise RuntimeError(f"{dag.dag_id}: its schedule ({dag.timetable}) has no daily interval starting on {day}")
    return interval.start, interval


def run_dag_for_day(dag, day: date):
    """One real DAG run of ``dag`` for the business day ``day``; returns the DagRun.

    The run gets the logical date and data interval the scheduler's run for ``day`` has (DAG.test
    alone would give a run with logical date X the interval that ends at X), so every task reads
    the same day from it whichever path ran it."""
    from unittest import mock

    import airflow.models.dagrun as dagrun_module

    logical, interval = day_interval(dag, day)
    create = dagrun_module.get_or_create_dagrun

    def with_the_scheduler_interval(**kw):
        return create(**{**kw, "data_interval": (interval.start, interval.end), "run_after": interval.end})

    with mock.patch.object(dagrun_module, "get_or_create_dagrun", with_the_scheduler_interval), _bundle_synced_once():
        return dag.test(logical_date=logical, run_after=interval.end)


_BAGS: dict[tuple, object] = {}  # (bundle name, folder) -> the parsed bag, for this process
_SYNCED: set[int] = set()          # the bags already written to the metadata DB


@contextlib.contextmanager
def _bundle_synced_once():
    """``DAG.test()`` parses the whole DAG folder and writes every DAG to the metadata DB on each
    call (0.7-1.5 s measured, four times a day). The DAG files do not change while one
    ``supervision run`` process runs, so the folder is parsed and written on the first call only;
    later calls reuse that parse and skip the identical write."""
    from unittest import mock

    import airflow.dag_processing.dagbag as dagbag_module

    make_bag, sync = dagbag_module.BundleDagBag, dagbag_module.sync_bag_to_db

    def bag_once(*args, **kwargs):
        key = (kwargs.get("bundle_name"), str(kwargs.get("dag_folder")))
        if key not in _BAGS:
            _BAGS[key] = make_bag(*args, **kwargs)
        return _BAGS[key]

    def sync_once(bag, *args, **kwargs):
        if id(bag) in _SYNCED:
            return None
        result = sync(bag, *args, **kwargs)
        _SYNCED.add(id(bag))
        return result

    with mock.patch.object(dagbag_module, "BundleDagBag", bag_once), \
            mock.patch.object(dagbag_module, "sync_bag_to_db", sync_once):
        yield


def _failed_tasks(dr) -> list[str]:
    """The tasks that failed (not those merely upstream_failed because of them)."""
    tis = dr.get_task_instances()
    failed = [f"{ti.task_id}{'' if ti.map_index < 0 else f'[{ti.map_index}]'}: {ti.state}"
              for ti in tis if str(ti.state) in ("failed", "TaskInstanceState.FAILED")]
    blocked = sum(1 for ti in tis if str(ti.state) not in ("success", "skipped", "failed",
                                                             "TaskInstanceState.SUCCESS",
                                                             "TaskInstanceState.SKIPPED",
                                                             "TaskInstanceState.FAILED"))
    return failed + ([f"({blocked} downstream tasks not run)"] if blocked else [])


class _LogToFile:
    """Send everything written to fds 1 and 2 (Airflow's and dbt's logs) to a file; keep a handle
    on the terminal for the progress display."""

    def __init__(self, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        sys.stdout.flush()
        sys.stderr.flush()
        self.terminal = os.fdopen(os.dup(1), "w", buffering=1)
        self.terminal_err = os.fdopen(os.dup(2), "w", buffering=1)
        self.log = open(path, "ab", buffering=0)  # noqa: SIM115 (lives as long as the process)
        os.dup2(self.log.fileno(), 1)
        os.dup2(self.log.fileno(), 2)

    def tail(self, lines: int = 40) -> str:
        """The end of the log, without the scheduler loop's waiting chatter, lines cut to 400 chars."""
        text = [ln for ln in self.path.read_text(errors="replace").splitlines()
                if "No tasks to run" not in ln and "Task instance state updated" not in ln]
        return "\n".join(ln if len(ln) <= 400 else ln[:400] + " …" for ln in text[-lines:])


class Runner:
    """Prepares the environment and parses the DAGs once; then runs days."""

    def __init__(self, progress: bool = True, dag_ids: tuple[str, ...] | None = None):
        from supervision.config import settings

        self.t0 = time.monotonic()
        self.progress = progress
        stamp = time.strftime("%Y%m%dT%H%M%S")
        self.out = _LogToFile(settings().var_dir / "logs" / f"run-{stamp}-{os.getpid()}.log")
        self.say(f"logs of this run: {self.out.path}")
        with startup_heap():  # long-lived objects: not traversed by every collection (supervision.heap)
            prepare_environment()
            _quiet_airflow_logging()
            self.dags = load_dags()
            _start_in_process_api()
        self.say(f"environment ready in {time.monotonic() - self.t0:.1f}s")
        self.order = dag_ids or (*INGEST_DAGS, MARTS_DAG)

    def run_day(self, day: date) -> DayResult:
        res = DayResult(day)
        for dag_id in self.order:
            t = time.monotonic()
            dr = run_dag_for_day(self.dags[dag_id], day)
            res.seconds[dag_id] = time.monotonic() - t
            state = str(getattr(dr.state, "value", dr.state))
            if state != "success":
                res.ok = False
                res.failed = [f"{dag_id}: {f}" for f in _failed_tasks(dr)] or [f"{dag_id}: run {state}"]
                break
        return res

    def say(self, text: str) -> None:
        if self.progress:
            print(text, file=self.out.terminal, flush=True)

    def report(self, res: DayResult, i: int, n: int, extra: str = "") -> None:
        total = sum(res.seconds.values())
        eta = (time.monotonic() - self.t0) / i * (n - i)
        parts = " ".join(f"{k.replace('ingest_', '')}={v:.1f}s" for k, v in res.seconds.items())
        self.say(f"[{i}/{n}] {res.day} {'ok' if res.ok else 'FAILED'} {total:.1f}s ({parts}){extra}"
                 f"{f'  eta {eta / 60:.1f} min' if i < n else ''}")
        if not res.ok:
            err = self.out.terminal_err
            print(f"day {res.day} failed:\n  " + "\n  ".join(res.failed), file=err)
            print(f"--- last lines of {self.out.path} ---\n{self.out.tail()}\n---", file=err)
            print("fix the cause and run the same command again: finished days re-run idempotently", file=err)


def run_days(start: date, end: date, progress: bool = True, dag_ids: tuple[str, ...] | None = None) -> bool:
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    runner = Runner(progress, dag_ids)
    days = list(_days(start, end))
    for i, day in enumerate(days, 1):
        res = runner.run_day(day)
        runner.report(res, i, len(days))
        if not res.ok:
            return False
    runner.say(f"{len(days)} day(s) done in {(time.monotonic() - runner.t0) / 60:.1f} min")
    return True


def demo(start: date, end: date, scale: float, seed: int, anomaly_rate: float = 0.02) -> bool:
    """Time passing: each day the simulator delivers that day's data, then that day's pipelines run."""
    from supervision.simulator import generate

    runner = Runner(True)
    days = list(_days(start, end))
    for i, day in enumerate(days, 1):
        t = time.monotonic()
        generate(start=day, end=day, scale=scale, seed=seed, training_db_url=None, landing=None,
                 anomaly_rate=anomaly_rate)
        gen = time.monotonic() - t
        res = runner.run_day(day)
        runner.report(res, i, len(days), extra=f" generate={gen:.1f}s")
        if not res.ok:
            return False
    runner.say(f"demo: {len(days)} day(s) simulated and run in {(time.monotonic() - runner.t0) / 60:.1f} min")
    return True
