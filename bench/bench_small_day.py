"""Where the seconds of a small day go: ``supervision run --start D --end D`` at scale 0.01, per phase.

A small day (about 20 held sessions, 1,500 attendance rows, 25 k video events) costs what the
machinery around the data costs: Airflow's task starts, dbt's start-up and parsing, GX's context,
the schema step. This bench runs such days the way a data engineer's daily run does (a fresh
``supervision run`` process per day, after a few days of history), and splits each day's wall time
into phases from Airflow's task instances: process start-up (wall minus the four DAG runs), each
ingestion DAG, and the marts DAG's tasks (the dbt builds, the GX gates and record flags, the rest,
and the gaps between tasks, which are Airflow's scheduling loop). Beside the seconds, the nodes
each dbt build ran that day (``ops.dbt_node_results``: all, and the data tests among them), since
dbt's cost of a node (about 40 ms whatever its data) is most of a small day's build.

``--before REF`` runs a git ref of this repository beside the working tree, day by day in
alternation, each in its own scratch folder and embedded PostgreSQL over the same simulated sources
(same seed): the before/after table of docs/ARCHITECTURE.md comes from one such run, so both
columns saw the same machine load. The ref is checked out in a temporary git worktree and run with
this environment's interpreter (PYTHONPATH), the native video parser copied in when the ref's Rust
sources are the same.

    .venv/bin/python bench/bench_small_day.py                       # 3 measured days
    .venv/bin/python bench/bench_small_day.py --before 0c6109b --days 3

Goal (issue "a day in seconds"): one small day under 15 s. Final line: JSON {"bench": "small_day", ...}.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import BIN, REPO, PeakMemory, emit, git_worktree, mib, postmaster_in, scratch_dir

FIRST_DAY = dt.date(2024, 1, 8)  # a Monday; the simulated world starts on 2024-01-01
NATIVE_DIR = Path("plugins/supervision/ingest/video")
RUST_DIR = Path("plugins/supervision/ingest/native")


class Variant:
    """One checkout (the working tree, or a ref in a temporary worktree) with its scratch folder."""

    def __init__(self, name: str, root: Path, var_dir: Path):
        self.name, self.root, self.var_dir = name, root, var_dir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERVISION_")}
        self.env.update({"SUPERVISION_VAR_DIR": str(var_dir), "PYTHONPATH": str(root / "plugins")})
        self.log = var_dir / "bench.log"
        self.days: list[dict] = []

    def cli(self, *args: str, memory: PeakMemory | None = None) -> float:
        t = time.monotonic()
        with open(self.log, "ab") as out:
            proc = subprocess.Popen([str(BIN / "python"), "-m", "supervision.cli", *args], env=self.env,
                                    stdout=out, stderr=subprocess.STDOUT, cwd=self.root)
            if memory:
                memory.start()
                memory.add_root(proc.pid)
            rc = proc.wait()
            if memory:
                memory.stop()
        if rc != 0:
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
            raise SystemExit(f"[{self.name}] supervision {' '.join(args)} failed ({rc}); {self.log}:\n{tail}")
        return time.monotonic() - t

    def settings(self):
        """This variant's settings, read in a child process (the settings object is per process)."""
        code = ("import json; from supervision.config import settings as s; x = s(); "
                "print(json.dumps({'airflow': x.airflow_db_url(), 'warehouse': x.warehouse_url(), "
                "'pgdata': str(x.pgdata)}))")
        out = subprocess.run([str(BIN / "python"), "-c", code], env=self.env, cwd=self.root, check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])


def phases(airflow_url: str, day: dt.date) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per phase of ``day``'s four DAG runs, and each DAG's span."""
    import psycopg

    from supervision.config import libpq_url

    with psycopg.connect(libpq_url(airflow_url)) as conn:
        rows = conn.execute(
            "select ti.dag_id, ti.task_id, ti.start_date, ti.end_date from task_instance ti"
            " join dag_run dr on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id"
            " where (dr.data_interval_start at time zone 'Asia/Shanghai')::date = %s"
            " and ti.start_date is not null and ti.end_date is not null", (day,)).fetchall()
    spans: dict[str, list] = {}
    out: dict[str, float] = {}
    for dag_id, task_id, start, end in rows:
        lo, hi = spans.get(dag_id, [start, end])
        spans[dag_id] = [min(lo, start), max(hi, end)]
        s = (end - start).total_seconds()
        if dag_id != "supervision_marts":
            key = f"{dag_id.removeprefix('ingest_')} (DAG tasks)"
        elif task_id.endswith("dbt_producer_watcher") or task_id in ("dbt_models", "dbt_alert_marts"):
            key = f"marts: dbt build ({'alert marts' if 'alert' in task_id else 'models'})"
        elif task_id.startswith(("dbt_models.", "dbt_alert_marts.")):
            key = "marts: dbt watcher sensors"
        elif task_id in ("quality_gates", "record_flags"):
            key = f"marts: GX {task_id.replace('_', ' ')}"
        else:
            key = "marts: other tasks (waits, bootstrap, upkeep, roles, notify)"
        out[key] = out.get(key, 0.0) + s
    span = {d: (hi - lo).total_seconds() for d, (lo, hi) in spans.items()}
    for dag_id, sec in span.items():
        tasks = sum(v for k, v in out.items() if k.startswith("marts" if dag_id == "supervision_marts"
                                                              else dag_id.removeprefix("ingest_")))
        key = "marts: between tasks (scheduling loop)" if dag_id == "supervision_marts" \
            else f"{dag_id.removeprefix('ingest_')} (between tasks)"
        out[key] = out.get(key, 0.0) + max(0.0, sec - tasks)
    return out, span


def dbt_nodes(warehouse_url: str, day: dt.date) -> dict[str, float]:
    """Nodes each dbt build of ``day`` ran (ops.dbt_node_results): all of them, and the data tests."""
    import psycopg

    from supervision.config import libpq_url

    with psycopg.connect(libpq_url(warehouse_url)) as conn:
        rows = conn.execute(
            "select part, count(*), count(*) filter (where resource_type = 'test') from ops.dbt_node_results"
            " where business_day = %s group by part", (day,)).fetchall()
    out: dict[str, float] = {}
    for part, n, tests in rows:
        label = "alert marts" if part == "alert_marts" else part
        out[f"dbt nodes: {label} build"] = float(n)
        out[f"dbt nodes: {label} build, data tests"] = float(tests)
    return out


def prepare(into: Path, ref: str) -> Path:
    """A checkout of ``ref`` made ready to run: the native parser copied when its sources are the
    same, the dbt manifest parsed."""
    rust_same = subprocess.run(["git", "-C", str(REPO), "diff", "--quiet", ref, "--", str(RUST_DIR)]).returncode == 0
    for lib in (REPO / NATIVE_DIR).glob("*.so"):
        if rust_same:
            shutil.copy2(lib, into / NATIVE_DIR / lib.name)
    subprocess.run([str(BIN / "python"), "-c", "from supervision.pipeline import ensure_manifest; ensure_manifest()"],
                   env={**os.environ, "PYTHONPATH": str(into / "plugins")}, cwd=into, check=True, capture_output=True)
    return into


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--history", type=int, default=3, help="days run before the measured ones (warm-up)")
    ap.add_argument("--days", type=int, default=3, help="measured days, each a fresh `supervision run`")
    ap.add_argument("--before", default=None, help="a git ref to run beside the working tree")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()

    base = scratch_dir("bench_small_day_")
    variants = [Variant("now", REPO, base / "now")]
    trees = contextlib.ExitStack()
    if args.before:
        try:
            tree = prepare(trees.enter_context(git_worktree(args.before)), args.before)
        except BaseException:
            trees.close()
            raise
        variants.insert(0, Variant(f"before ({args.before})", tree, base / "before"))
    history = [FIRST_DAY - dt.timedelta(days=i) for i in range(args.history, 0, -1)]
    measured = [FIRST_DAY + dt.timedelta(days=i) for i in range(args.days)]
    gen = ["--scale", str(args.scale), "--seed", str(args.seed)]
    try:
        for v in variants:
            v.var_dir.mkdir(parents=True)
            v.cli("warehouse", "start")
            v.cli("generate", "--start", history[0].isoformat(), "--end", history[-1].isoformat(), *gen)
            v.cli("run", "--start", history[0].isoformat(), "--end", history[-1].isoformat(), "--quiet")
            v.conf = v.settings()
        for day in measured:
            for v in variants:  # alternating: both see the same load
                v.cli("generate", "--start", day.isoformat(), "--end", day.isoformat(), *gen)
                memory = PeakMemory(postmaster=postmaster_in(Path(v.conf["pgdata"])))
                wall = v.cli("run", "--start", day.isoformat(), "--end", day.isoformat(), "--quiet", memory=memory)
                per, span = phases(v.conf["airflow"], day)
                per["process start-up (wall - DAG runs)"] = max(0.0, wall - sum(span.values()))
                v.days.append({"day": day.isoformat(), "wall": wall, "phases": per,
                               "nodes": dbt_nodes(v.conf["warehouse"], day), "pss": memory.pss,
                               "rss": memory.rss, "load": os.getloadavg()[0]})
                print(f"[{v.name}] {day}: {wall:.1f} s, PSS {mib(memory.pss)} MiB", flush=True)
    finally:
        for v in variants:
            subprocess.run([str(BIN / "python"), "-m", "supervision.cli", "warehouse", "stop"], env=v.env, cwd=v.root,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        trees.close()
        shutil.rmtree(base, ignore_errors=True)

    keys: list[str] = []
    for v in variants:
        for d in v.days:
            keys += [k for k in d["phases"] if k not in keys]
    order = sorted(keys, key=lambda k: (k.startswith("marts"), k))
    med = {v.name: {k: statistics.median(d["phases"].get(k, 0.0) for d in v.days) for k in order} for v in variants}
    print(f"\nmedian seconds per phase over {args.days} measured day(s), scale {args.scale} "
          f"(load average 1 min during the runs: {statistics.mean(d['load'] for v in variants for d in v.days):.1f}, "
          f"{os.cpu_count()} cores)")
    print(f"  {'phase':<58}" + "".join(f"{v.name:>22}" for v in variants))
    for k in order:
        print(f"  {k:<58}" + "".join(f"{med[v.name][k]:>22.2f}" for v in variants))
    node_keys = sorted({k for v in variants for d in v.days for k in d["nodes"]})
    nodes = {v.name: {k: statistics.median(d["nodes"].get(k, 0.0) for d in v.days) for k in node_keys}
             for v in variants}
    for k in node_keys:
        print(f"  {k:<58}" + "".join(f"{nodes[v.name][k]:>22.0f}" for v in variants))
    walls = {v.name: statistics.median(d["wall"] for d in v.days) for v in variants}
    pss = {v.name: max(d["pss"] for d in v.days) for v in variants}
    print(f"  {'day (process wall), median':<58}" + "".join(f"{walls[v.name]:>22.2f}" for v in variants))
    print(f"  {'peak memory, whole tree incl. PostgreSQL (PSS, MiB)':<58}"
          + "".join(f"{mib(pss[v.name]):>22}" for v in variants))
    figures = {"scale": args.scale, "days": args.days, "wall_s": round(walls["now"], 1),
               "peak_pss_mib": mib(pss["now"]), "goal_s": 15,
               "phases_s": {k: round(med["now"][k], 2) for k in order},
               "dbt_nodes": {k: int(nodes["now"][k]) for k in node_keys}}
    if args.before:
        before = variants[0].name
        figures.update({"before_ref": args.before, "before_wall_s": round(walls[before], 1),
                        "before_peak_pss_mib": mib(pss[before]), "ratio_now_to_before": round(walls["now"] / walls[before], 3),
                        "before_phases_s": {k: round(med[before][k], 2) for k in order},
                        "before_dbt_nodes": {k: int(nodes[before][k]) for k in node_keys}})
    emit("small_day", **figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
