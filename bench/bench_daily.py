"""A go-live over a quarter of city-scale history, then the days after it: seconds per DAG, GX's
share, peak memory, and a year by extrapolation.

What it does, in a scratch SUPERVISION_VAR_DIR (its own embedded PostgreSQL, Airflow home, landing;
never the repo's var/):

1. simulates ``--history`` days (default 91: 2024-01-01..03-31) and runs the last of them with
   ``supervision run``: the first run loads everything delivered so far, as a platform going live
   over its history does (the go-live);
2. simulates each of the ``--days`` measured days (default 3, from the day after the history) and
   runs it with ``supervision run --start D --end D`` (a fresh process, as a daily run is): four
   real DAG runs through ``DAG.test()``;
3. reads each measured day's task instances from Airflow's metadata database (start and end
   dates) and prints seconds per DAG, the Great Expectations tasks (``quality_gates``,
   ``record_flags``: the only tasks that call GX) and their share of the day, beside the peak
   memory of the whole process tree INCLUDING the PostgreSQL server's processes, sampled every
   0.2 s (sum of RSS, which counts PostgreSQL's shared buffers once per backend, and sum of PSS,
   which shares them out: the fair total);
4. a year by extrapolation: the go-live, then 274 days at the slowest measured day's wall, growing
   by the ratio of a day's dbt build after 300 and after 30 days of history (``--growth``, or
   ``bench_dbt.py``'s figure from the same ``supervision bench``).

    .venv/bin/python bench/bench_daily.py                 # the quarter's go-live and 3 days (~1 h, ~45 GiB)
    .venv/bin/python bench/bench_daily.py --quick         # scale 0.05, 3 days of history, one day: a smoke run
    .venv/bin/python bench/bench_daily.py --history 3 --day 2024-01-04 --days 1   # a day after a short history
    .venv/bin/python bench/bench_daily.py --history 91 --growth 1.28 --var-dir /big/disk/q --keep
    .venv/bin/python bench/bench_daily.py --history 0 --day 2024-04-04 --var-dir /big/disk/q --keep  # the next day

Goals (issue "a day in seconds", printed by ``supervision bench``): a city day's DAG runs at most
90 s, the go-live at most 30 min, a year at most 4 h, peak PSS at most 2 GiB.
Final line: JSON {"bench": "daily_city", ...}: the go-live, ``days`` (each measured day's
figures), their median and slowest, the peak, the year.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import BIN, REPO, PeakMemory, emit, mib, postmaster_in, scratch_dir

# the environment's commands: the repository's .venv, else the one of the running interpreter
GO_LIVE = dt.date(2024, 1, 1)  # the simulated world's first day: the simulator backfills from it
QUARTER = 91  # days of history by default: the go-live over a quarter (2024-01-01..03-31)
DISK_PER_CITY_DAY = 0.5 * 1024 ** 3  # warehouse, landing and sources of a city-scale day (a quarter and a day: 44 GiB)
GX_TASKS = ("quality_gates", "record_flags")  # every task of the DAGs that imports GX
GIB = 1024 ** 3


def supervision(env: dict[str, str], *args: str, memory: PeakMemory | None = None, log: Path) -> float:
    """Run ``supervision <args>`` in a fresh process; returns its wall seconds (raises on failure)."""
    t = time.monotonic()
    with open(log, "ab") as out:
        proc = subprocess.Popen([str(BIN / "supervision"), *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=REPO)
        if memory:
            memory.start()
            memory.add_root(proc.pid)
        rc = proc.wait()
        if memory:
            memory.stop()
    seconds = time.monotonic() - t
    if rc != 0:
        tail = log.read_text(errors="replace").splitlines()[-40:]
        raise SystemExit(f"supervision {' '.join(args)} failed ({rc}); log {log}:\n" + "\n".join(tail))
    return seconds


def task_seconds(airflow_url: str, day: dt.date) -> tuple[dict[str, float], dict[str, float], list[tuple]]:
    """Per DAG: span from its first task's start to its last task's end, for the runs of ``day``;
    per task id (summed over map indexes); and the raw rows."""
    import psycopg

    from supervision.config import libpq_url

    with psycopg.connect(libpq_url(airflow_url)) as conn:
        rows = conn.execute(
            "select ti.dag_id, ti.task_id, ti.map_index, ti.start_date, ti.end_date, ti.state"
            " from task_instance ti join dag_run dr on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id"
            " where (dr.logical_date at time zone 'Asia/Shanghai')::date = %s"
            " and ti.start_date is not null and ti.end_date is not null",
            (day,)).fetchall()
    dags: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    tasks: dict[str, float] = {}
    for dag_id, task_id, _map, start, end, _state in rows:
        lo, hi = dags.get(dag_id, (start, end))
        dags[dag_id] = (min(lo, start), max(hi, end))
        key = f"{dag_id}.{task_id}"
        tasks[key] = tasks.get(key, 0.0) + (end - start).total_seconds()
    return {d: (hi - lo).total_seconds() for d, (lo, hi) in dags.items()}, tasks, rows


def warehouse_figures(warehouse_url: str, day: dt.date) -> dict[str, object]:
    import psycopg

    from supervision.config import libpq_url

    with psycopg.connect(libpq_url(warehouse_url)) as conn:
        flags = conn.execute("select mode, checked from ops.gx_flag_runs order by flag_run_id desc limit 1").fetchone()
        sizes = dict(conn.execute(
            "select 'attendance', count(*) from raw_training.attendance union all"
            " select 'video_events', count(*) from raw_video.events union all"
            " select 'sessions_held_on_day', count(*) from raw_training.sessions"
            "  where status = 'held' and (starts_at at time zone 'Asia/Shanghai')::date = %s union all"
            " select 'gx_findings', count(*) from ops.gx_rule_findings", (day,)).fetchall())
        # the day's dbt nodes (ops.dbt_node_results, written by both builds of the marts DAG): the
        # seconds of every node and of the risk models (dbt_project/models/risk/) with their tests
        nodes = conn.execute(
            "select part, unique_id, resource_type, seconds::float8 from ops.dbt_node_results"
            " where business_day = %s", (day,)).fetchall()
    risk = [r for r in nodes if "risk" in r[1].split(".")[-1] or "risk_" in r[1]]
    dbt_nodes = {"dbt_nodes": len(nodes), "dbt_node_s": round(sum(r[3] for r in nodes), 1),
                 "risk_nodes": len(risk), "risk_models_s": round(sum(r[3] for r in risk if r[2] == "model"), 1),
                 "risk_tests_s": round(sum(r[3] for r in risk if r[2] != "model"), 1)}
    checked = sum(v.get("checked", 0) for v in flags[1].values()) if flags else None
    return {"flags_mode": flags[0] if flags else None, "flags_records_checked": checked,
            "flags_checked": flags[1] if flags else None, **sizes, **dbt_nodes}


def report(day, scale, history, per_dag, per_task, wh, memory, wall, load_before, load_after) -> dict:
    gx = {t: v for t, v in per_task.items() if t.rsplit('.', 1)[1] in GX_TASKS}
    gx_s = sum(gx.values())
    dag_s = sum(per_dag.values())
    print(f"measured day {day} at scale {scale} after {len(history)} day(s) of history "
          f"({wh.get('sessions_held_on_day')} sessions held on it; {wh.get('attendance')} attendance rows, "
          f"{wh.get('video_events')} video events in the warehouse)")
    for dag_id, sec in sorted(per_dag.items()):
        print(f"  {dag_id:<28} {sec:7.1f} s")
    print(f"  {'DAG runs, summed':<28} {dag_s:7.1f} s;  `supervision run` process wall {wall:.1f} s")
    for task, sec in sorted(gx.items()):
        print(f"  GX {task:<36} {sec:7.1f} s")
    share_dags = gx_s / dag_s if dag_s else None
    share_wall = gx_s / wall if wall else None
    print(f"  GX {gx_s:.1f} s = {100 * (share_dags or 0):.1f}% of the DAG runs, {100 * (share_wall or 0):.1f}% of "
          f"the process wall (goal < 20%); record flags {wh['flags_mode']}, {wh['flags_records_checked']} records "
          "re-checked")
    print(f"  peak memory, whole tree incl. PostgreSQL ({memory.processes} processes at most, "
          f"{memory.samples} samples): PSS {memory.pss / GIB:.2f} GiB, RSS sum {memory.rss / GIB:.2f} GiB "
          "(goal < 4 GiB)")
    print(f"  load average 1/5/15 min: before {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
          f"after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} ({os.cpu_count()} cores)")
    risk_s = wh["risk_models_s"] + wh["risk_tests_s"]
    print(f"  dbt nodes of the day: {wh['dbt_nodes']} in {wh['dbt_node_s']:.1f} s (node seconds summed); the risk "
          f"models {wh['risk_models_s']:.1f} s + their tests {wh['risk_tests_s']:.1f} s ({wh['risk_nodes']} nodes) = "
          f"{100 * risk_s / dag_s if dag_s else 0:.1f}% of the DAG runs")
    top = sorted(per_task.items(), key=lambda kv: -kv[1])[:8]
    print("  slowest tasks: " + ", ".join(f"{k} {v:.1f}s" for k, v in top))
    result = {
        "day": day.isoformat(), "sessions_held": wh.get("sessions_held_on_day"),
        "wall_s": round(wall, 1), "dag_runs_s": round(dag_s, 1),
        **{f"{d.removeprefix('ingest_')}_s": round(v, 1) for d, v in sorted(per_dag.items())},
        "gx_s": round(gx_s, 1), **{f"gx_{t.rsplit('.', 1)[1]}_s": round(v, 1) for t, v in gx.items()},
        "gx_share_of_dag_runs": round(share_dags, 3) if share_dags is not None else None,
        "gx_share_of_wall": round(share_wall, 3) if share_wall is not None else None,
        "flags_mode": wh["flags_mode"], "flags_records_checked": wh["flags_records_checked"],
        **{k: wh[k] for k in ("dbt_nodes", "dbt_node_s", "risk_nodes", "risk_models_s", "risk_tests_s")},
        "risk_share_of_dag_runs": round((wh["risk_models_s"] + wh["risk_tests_s"]) / dag_s, 3) if dag_s else None,
        **memory.figures(), "peak_rss_sum_mib": mib(memory.rss),
        "loadavg_1m_before": round(load_before[0], 2), "loadavg_1m_after": round(load_after[0], 2),
    }
    return result


def year_by_extrapolation(history_days: int, go_live_s: float, day_s: float, growth: float) -> dict:
    """A year of days: the go-live over the first ``history_days`` (measured), then each later day d
    at the measured day's cost, growing linearly by ``growth - 1`` of it per 270 days of history
    (the 30 vs 300 days ratio): day_s x (1 + (growth - 1) (d - first) / 270) summed to day 365."""
    n = 365 - history_days
    days_s = day_s * (n + (growth - 1) / 270 * n * (n - 1) / 2)
    total = go_live_s + days_s
    print(f"a year by extrapolation: go-live over {history_days} days {go_live_s / 60:.1f} min + {n} daily runs from "
          f"{day_s:.1f} s, growing x{growth} per 270 days: {days_s / 3600:.2f} h; total {total / 3600:.2f} h (goal 4 h)")
    return {"year_extrapolated_h": round(total / 3600, 2), "year_growth_ratio": round(growth, 3),
            "year_daily_runs_h": round(days_s / 3600, 2)}


def growth_from_this_run() -> float | None:
    """The growth of a day's dbt build from 30 to 300 days of history (run + data tests), as
    ``bench_dbt.py`` measured it earlier in the same ``supervision bench``; None when it did not run."""
    from supervision.bench_runner import results_so_far

    for r in reversed(results_so_far()):
        if r.get("bench") == "dbt_incremental" and r.get("growth", {}).get("whole_build") is not None:
            return 1 + float(r["growth"]["whole_build"])
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="simulator scale (1.0 = the city)")
    ap.add_argument("--quick", action="store_true", help="scale 0.05, 3 days of history, one day (smoke run)")
    ap.add_argument("--history", type=int, default=QUARTER, help="days simulated before the first measured day, "
                    "run as one first run (the go-live)")
    ap.add_argument("--day", type=dt.date.fromisoformat, default=None,
                    help="the first measured day (default: the day after the history)")
    ap.add_argument("--days", type=int, default=3, help="measured days, each a fresh `supervision run` process")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fault-rate", type=float, default=None, help="simulator's source faults (default: its own)")
    ap.add_argument("--var-dir", type=Path, default=None,
                    help="scratch SUPERVISION_VAR_DIR (default: a new folder, removed afterwards)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder (server stopped)")
    ap.add_argument("--growth", type=float, default=None,
                    help="a day's cost at day 300 over day 30 (bench/bench_dbt.py's run + data tests ratio; "
                         "default: bench_dbt's figure from the same `supervision bench`): with a history, "
                         "prints a year of days by extrapolation from the go-live and the slowest measured day")
    args = ap.parse_args()
    if args.days < 1:
        ap.error("--days: at least one measured day")
    if args.quick:
        args.scale, args.history, args.days = 0.05, min(args.history, 3), 1
    scale = args.scale
    first_day = args.day or GO_LIVE + dt.timedelta(days=args.history)
    fault_rate = args.fault_rate
    gen_extra = [] if fault_rate is None else ["--fault-rate", str(fault_rate)]

    var_dir = (args.var_dir or scratch_dir("bench_daily_")).resolve()
    if var_dir == (REPO / "var").resolve():
        raise SystemExit("refusing to use the repo's var/")
    var_dir.mkdir(parents=True, exist_ok=True)
    need = DISK_PER_CITY_DAY * scale * (args.history + args.days)
    free = shutil.disk_usage(var_dir).free
    if free < need:
        raise SystemExit(f"{var_dir}: {free / GIB:.0f} GiB free, the run needs about {need / GIB:.0f} GiB "
                         f"({args.history + args.days} days at scale {scale}); use --var-dir on a larger disk")
    env = {**os.environ, "SUPERVISION_VAR_DIR": str(var_dir)}
    for name in ("SUPERVISION_WAREHOUSE_URL", "SUPERVISION_AIRFLOW_DB_URL", "SUPERVISION_TRAINING_DB_URL",
                 "SUPERVISION_LANDING_URL"):
        env.pop(name, None)  # everything in the scratch folder's embedded server
    os.environ.update({"SUPERVISION_VAR_DIR": str(var_dir)})
    for name in ("SUPERVISION_WAREHOUSE_URL", "SUPERVISION_AIRFLOW_DB_URL"):
        os.environ.pop(name, None)
    from supervision.config import settings

    log = var_dir / "bench_daily.log"
    history = [first_day - dt.timedelta(days=i) for i in range(args.history, 0, -1)]
    measured = [first_day + dt.timedelta(days=i) for i in range(args.days)]
    if (history[0] if history else first_day) > GO_LIVE:
        print(f"note: the simulator backfills from {GO_LIVE}: the initial load holds "
              f"{((history[0] if history else first_day) - GO_LIVE).days} more day(s) of history", flush=True)
    figures: dict[str, object] = {"scale": scale, "history_days": len(history), "day": first_day.isoformat(),
                                  **({"fault_rate": fault_rate} if fault_rate is not None else {})}
    days: list[dict] = []
    peak_pss = 0.0
    try:
        supervision(env, "warehouse", "start", log=log)
        t = time.monotonic()
        if history:
            supervision(env, "generate", "--start", history[0].isoformat(), "--end", history[-1].isoformat(),
                        "--scale", str(scale), "--seed", str(args.seed), *gen_extra, log=log)
        gen_history = time.monotonic() - t
        run_history = 0.0
        if history:  # the first run loads every day delivered so far: a go-live over the history
            go_live_memory = PeakMemory(postmaster=postmaster_in(settings().pgdata))
            run_history = supervision(env, "run", "--start", history[-1].isoformat(), "--end",
                                      history[-1].isoformat(), memory=go_live_memory, log=log)
            figures.update(go_live_s=round(run_history, 1), go_live_peak_pss_mib=mib(go_live_memory.pss))
            peak_pss = go_live_memory.pss
            print(f"history: {len(history)} day(s) simulated in {gen_history:.0f}s, initial load run (the go-live) "
                  f"in {run_history:.0f}s, peak PSS with PostgreSQL {figures['go_live_peak_pss_mib']} MiB", flush=True)
        s = settings()
        for day in measured:
            gen_day = supervision(env, "generate", "--start", day.isoformat(), "--end", day.isoformat(),
                                  "--scale", str(scale), "--seed", str(args.seed), *gen_extra, log=log)
            memory = PeakMemory(postmaster=postmaster_in(s.pgdata))
            load_before = os.getloadavg()
            wall = supervision(env, "run", "--start", day.isoformat(), "--end", day.isoformat(),
                               memory=memory, log=log)
            load_after = os.getloadavg()
            per_dag, per_task, _ = task_seconds(s.airflow_db_url(), day)
            wh = warehouse_figures(s.warehouse_url(), day)
            (var_dir.parent / f"{var_dir.name}.{day.isoformat()}.measured.json").write_text(json.dumps(
                {"per_dag": per_dag, "per_task": per_task, "wh": wh, "wall": wall, "peak_pss": memory.pss,
                 "peak_rss": memory.rss, "load": [load_before, load_after]}, default=str))
            print(f"day {day} simulated in {gen_day:.1f}s", flush=True)
            days.append(report(day, scale, history, per_dag, per_task, wh, memory, wall, load_before, load_after))
            peak_pss = max(peak_pss, memory.pss)
    finally:
        subprocess.run([str(BIN / "supervision"), "warehouse", "stop"], env=env, cwd=REPO,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)

    result = {**figures, **summary(days), "peak_pss_mib": mib(peak_pss), "days": days}
    growth = args.growth or growth_from_this_run()
    if history and growth:
        result.update(year_by_extrapolation(len(history), float(figures["go_live_s"]), result["wall_s_max"], growth))
    elif history:
        print("a year by extrapolation: needs the growth from 30 to 300 days (--growth, or bench_dbt.py run first "
              "in the same `supervision bench`)")
    emit("daily_city", **result)
    return 0


def summary(days: list[dict]) -> dict[str, object]:
    """The measured days side by side: median and slowest of the DAG runs and of the process wall."""
    out: dict[str, object] = {}
    for key in ("dag_runs_s", "wall_s"):
        values = [d[key] for d in days]
        out[f"{key}_median"] = round(statistics.median(values), 1)
        out[f"{key}_max"] = round(max(values), 1)
    print(f"{len(days)} measured day(s): DAG runs " + ", ".join(f"{d['day']} {d['dag_runs_s']:.1f} s" for d in days)
          + f"; median {out['dag_runs_s_median']} s, slowest {out['dag_runs_s_max']} s (goal 90 s); process wall "
          f"median {out['wall_s_median']} s, slowest {out['wall_s_max']} s")
    return out


if __name__ == "__main__":
    sys.exit(main())
