"""One business day through each path a data engineer can run it, side by side, with peak memory.

1. ``supervision run --start D --end D``: four ``DAG.test()`` runs in one process;
2. the scheduler with the LocalExecutor (api-server, scheduler, dag-processor, triggerer):
   ``airflow backfill create`` of D for the four DAGs;
3. the same with the CeleryExecutor: redis-server as broker and two ``airflow celery worker``
   processes (tests/airflow_services.py starts the services, as the Celery test does);
4. the same again with the workers' preloading off (``SUPERVISION_WORKER_PRELOAD=false``: each task
   process imports the DAGs' modules, dbt and GX itself; ``supervision.celery_worker``).

The sources of D are simulated once (``--scale``) into a scratch folder, and every path gets its own
fresh warehouse and Airflow metadata (an embedded PostgreSQL each) over those same sources. For each
path: the services' start-up seconds (0 for ``supervision run``, whose process starts Airflow itself),
the day's wall seconds (backfill created to the four runs succeeded; the process wall for
``supervision run``) and the peak memory of the whole process tree during the day, PostgreSQL and
redis included (sum of PSS: shared pages shared out; sum of RSS beside it). The four runs of each
path must leave the same alerts (count checked).

    .venv/bin/python bench/bench_paths.py              # scale 0.01
    .venv/bin/python bench/bench_paths.py --quick      # scale 0.005

Final line: JSON {"bench": "paths", ...}.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from harness import REPO, PeakMemory, emit, mib, postmaster_in, scratch_dir

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.airflow_services import DAG_IDS, AirflowServices, redis_available  # noqa: E402
from tests.simulated_run import CLI, cli, env_for, warehouse_url  # noqa: E402

DAY = dt.date(2024, 1, 2)


def alert_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as c:
        return c.execute("select count(*) from marts.supervision_alerts").fetchone()[0]


def logical_date(day: dt.date) -> dt.datetime:
    from supervision.config import Settings

    s = Settings()
    return dt.datetime(day.year, day.month, day.day, s.daily_run_hour, tzinfo=s.tzinfo)


def supervision_run(var: Path, sources: dict[str, str], day: dt.date) -> dict[str, object]:
    env = env_for(var, **sources)
    cli(env, "warehouse", "start")
    try:
        memory = PeakMemory(postmaster=postmaster_in(var / "pgdata")).start()
        t = time.monotonic()
        with open(var / "run.log", "wb") as out:
            proc = subprocess.Popen([*CLI, "run", "--start", str(day), "--end", str(day)], env=env,
                                    stdout=out, stderr=subprocess.STDOUT)
            memory.add_root(proc.pid)
            rc = proc.wait()
        seconds = time.monotonic() - t
        memory.stop()
        if rc != 0:
            raise SystemExit(f"supervision run failed; log {var / 'run.log'}")
        return {"startup_s": 0.0, "day_s": round(seconds, 1), "peak_pss_mib": mib(memory.pss),
                "peak_rss_sum_mib": mib(memory.rss), "processes": memory.processes,
                "alerts": alert_count(warehouse_url(env))}
    finally:
        subprocess.run([*CLI, "warehouse", "stop"], env=env, capture_output=True)


def through_services(var: Path, sources: dict[str, str], day: dt.date, workers: int,
                     extra_env: dict[str, str] | None = None) -> dict[str, object]:
    t = time.monotonic()
    with AirflowServices(var, sources, workers=workers, extra_env=extra_env) as svc:
        startup = time.monotonic() - t
        memory = PeakMemory(*svc.pids(), postmaster=postmaster_in(var / "pgdata")).start()
        idle_pss = memory.pss
        t = time.monotonic()
        svc.backfill(str(day), str(day))
        svc.wait_runs({(d, logical_date(day)) for d in DAG_IDS}, poll=1)
        seconds = time.monotonic() - t
        memory.stop()
        hosts = sorted({h for (h,) in svc.query("select distinct hostname from task_instance")})
        (tasks, task_s), = svc.query("select count(*), sum(extract(epoch from end_date - start_date))"
                                     " from task_instance where end_date is not null")
        return {"startup_s": round(startup, 1), "day_s": round(seconds, 1), "idle_pss_mib": mib(idle_pss),
                "peak_pss_mib": mib(memory.pss), "peak_rss_sum_mib": mib(memory.rss),
                "processes": memory.processes, "alerts": alert_count(warehouse_url(svc.env)),
                "task_hosts": len(hosts), "tasks": tasks, "task_s": round(float(task_s or 0), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.01, help="simulator scale (1.0 = the city)")
    ap.add_argument("--quick", action="store_true", help="scale 0.005 (smoke run)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder (servers stopped)")
    args = ap.parse_args()
    scale = 0.005 if args.quick else args.scale
    root = scratch_dir("bench_paths_")
    gen_env = env_for(root / "sources")
    try:
        cli(gen_env, "warehouse", "start")
        cli(gen_env, "generate", "--start", str(DAY - dt.timedelta(days=1)), "--end", str(DAY),
             "--scale", str(scale), "--seed", str(args.seed), "--anomaly-rate", "0.1")
        sources = {"SUPERVISION_LANDING_URL": str(root / "sources" / "landing"),
                   "SUPERVISION_TRAINING_DB_URL": warehouse_url(gen_env).rsplit("/", 1)[0] + "/training_platform"}
        paths: dict[str, dict[str, object]] = {}
        paths["supervision_run"] = supervision_run(root / "run", sources, DAY)
        paths["local_executor"] = through_services(root / "local", sources, DAY, workers=0)
        if redis_available():
            # the workers as deployed (the DAGs' modules, dbt and GX imported once per worker:
            # supervision.celery_worker), and beside them with that preloading off
            paths["celery_2_workers"] = through_services(root / "celery", sources, DAY, workers=2)
            paths["celery_no_preload"] = through_services(root / "celery_np", sources, DAY, workers=2,
                                                          extra_env={"SUPERVISION_WORKER_PRELOAD": "false"})
        else:
            print("redis-server not installed: the Celery path is left out", flush=True)
    except BaseException:
        args.keep = True  # the services' and tasks' logs stay for a look
        print(f"failed: logs under {root}", flush=True)
        raise
    finally:
        subprocess.run([*CLI, "warehouse", "stop"], env=gen_env, capture_output=True)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"one business day ({DAY}, scale {scale}), each path on a fresh warehouse; {os.cpu_count()} cores")
    print(f"  {'path':<18} {'start-up s':>10} {'day s':>7} {'tasks':>6} {'task s':>7} {'peak PSS MiB':>13} "
          f"{'RSS sum MiB':>12} {'alerts':>7}")
    for name, f in paths.items():
        print(f"  {name:<18} {f['startup_s']:>10} {f['day_s']:>7} {f.get('tasks', '-'):>6} {f.get('task_s', '-'):>7} "
              f"{f['peak_pss_mib']:>13} {f['peak_rss_sum_mib']:>12} {f['alerts']:>7}")
    alerts = {f["alerts"] for f in paths.values()}
    emit("paths", scale=scale, day=str(DAY), same_alert_count=len(alerts) == 1,
         **{f"{p}_{k}": v for p, f in paths.items() for k, v in f.items()})
    return 0 if len(alerts) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
