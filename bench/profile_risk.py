"""Profile: which models of a day's dbt run grow with history, the risk models first.

On bench_dbt's synthetic city (same rows, same planned sessions ahead) it builds N days of history,
runs one more day, then extends the history to 10 N days and runs one more day again. At each of
the two points it times:

- the whole daily run (`dbt run --exclude tag:after_alerts`, the DAG's producer run) per model;
- the risk models (models/risk/) of that day, run again alone, with this worktree's project and,
  with --before DIR, with another copy of the project (e.g. `git archive main dbt_project`): same
  warehouse, same day, side by side, the fastest of --repeat runs each;
- whether each project's incremental run and full rebuild of the risk models leave the same rows
  (every column) as the first project's full rebuild;
- with --explain DIR: EXPLAIN (ANALYZE, BUFFERS) of the compiled incremental SQL of each risk
  model, written to DIR/<point>_<project>_<model>.txt.

Each model's delete+insert recomputes whole months, so running either project's risk models again
on the same day leaves the same rows: the two projects can take turns on one warehouse.

    PYTHONPATH=$PWD/plugins .venv/bin/python bench/profile_risk.py --days 30 --scale 0.04 \\
        --before /tmp/dbt_project_main --explain /tmp/risk_explain

Last line: JSON {"bench": "profile_risk", ...}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg
from bench_dbt import CITY_SESSIONS_PER_DAY, PLANNED_AHEAD, START, STATIC_SQL, load_days
from bench_risk import RISK_MODELS
from harness import REPO, PeakMemory, emit, mib, scratch_database, scratch_server

from supervision.dbt_runner import _common_args, _environment, _with_vars, dbt_env
from supervision.warehouse import bootstrap


def dbt(project: Path, args: list[str], url: str, vars: dict | None = None) -> list[dict]:
    """`dbt <args>` with `project`; the run's results (run_results.json) in a target folder of its own."""
    from dbt.cli.main import dbtRunner

    target = Path(tempfile.gettempdir()) / f"profile_risk_target_{abs(hash(str(project)))}"
    with _environment(dbt_env(url)):
        result = dbtRunner().invoke(_with_vars([*args, *_common_args(project), "--target-path", str(target)], vars))
    if not result.success:
        raise SystemExit(f"dbt {' '.join(args)} with {project} failed")
    path = target / "run_results.json"
    return json.loads(path.read_text())["results"] if path.exists() else []


def per_model(results: list[dict]) -> dict[str, float]:
    return {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in results
            if r["unique_id"].startswith("model.")}


def risk_runs(projects: dict[str, Path], url: str, day: str, repeat: int, server) -> dict:
    """Seconds of each risk model per project, the fastest of `repeat` runs, turn by turn."""
    best: dict[str, dict[str, float]] = {name: {} for name in projects}
    memory: dict[str, int] = {}
    for _ in range(repeat):
        for name, project in projects.items():
            with PeakMemory(os.getpid(), server=server) as mem:
                times = per_model(dbt(project, ["run", "--select", *RISK_MODELS], url, {"run_date": day}))
            memory[name] = max(memory.get(name, 0), mib(mem.pss))
            for model, s in times.items():
                best[name][model] = min(best[name].get(model, s), s)
    return {name: {"models_s": best[name], "total_s": round(sum(best[name].values()), 2), "peak_pss_mib": memory[name]}
            for name in projects}


def explain(projects: dict[str, Path], url: str, day: str, out: Path, label: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each risk model's compiled SQL (the incremental select)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, project in projects.items():
        dbt(project, ["compile", "--select", *RISK_MODELS], url, {"run_date": day})
        compiled = Path(tempfile.gettempdir()) / f"profile_risk_target_{abs(hash(str(project)))}" / "compiled"
        for model in RISK_MODELS[:4]:
            sql = next(compiled.rglob(f"{model}.sql")).read_text()
            with psycopg.connect(url) as conn:
                plan = conn.execute("explain (analyze, buffers) " + sql).fetchall()
                conn.rollback()
            (out / f"{label}_{name}_{model}.txt").write_text(sql + "\n\n" + "\n".join(r[0] for r in plan) + "\n")


RISK_TABLES = ("intermediate.int_risk_institution_measures", "intermediate.int_risk_org_measures",
               "core.fct_risk_features", "intermediate.int_risk_org_links", "marts.risk_features")


def snapshot(url: str) -> dict[str, list[str]]:
    with psycopg.connect(url) as conn:
        return {t: sorted(map(repr, conn.execute(f"select * from {t}").fetchall())) for t in RISK_TABLES}


def same_rows(projects: dict[str, Path], url: str, day: str) -> dict[str, bool]:
    """Whether each project's incremental run and full rebuild of the risk models leave the same rows
    as the first project's full rebuild."""
    runs = {}
    for name, project in projects.items():
        for mode in ("full", "incremental"):
            dbt(project, ["run", *(["--full-refresh"] if mode == "full" else []), "--select", *RISK_MODELS], url,
                {"run_date": day})
            runs[f"{name}_{mode}"] = snapshot(url)
    first = next(iter(runs.values()))
    return {key: rows == first for key, rows in runs.items()}


def point(projects: dict[str, Path], url: str, day_index: int, spd: int, repeat: int, server,
          explain_dir: Path | None, label: str) -> dict:
    load_days(url, day_index, day_index + 1, spd)
    day = str(START + timedelta(days=day_index))
    t0 = time.perf_counter()
    whole = per_model(dbt(projects["after"], ["run", "--exclude", "tag:after_alerts"], url, {"run_date": day}))
    whole_s = time.perf_counter() - t0
    risk = risk_runs(projects, url, day, repeat, server)
    if explain_dir is not None:
        explain(projects, url, day, explain_dir, label)
    same = same_rows(projects, url, day)
    return {"day": day, "whole_run_s": round(whole_s, 2), "whole_run_models_s": whole, "risk": risk,
            "same_rows_as_first_full_rebuild": same}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30, help="N: the short history (the long one is 10 N)")
    ap.add_argument("--scale", type=float, default=0.04)
    ap.add_argument("--planned-ahead", type=int, default=30)
    ap.add_argument("--warehouse", help="owner URL of a PostgreSQL server; default: a temporary embedded one")
    ap.add_argument("--keep", action="store_true", help="keep the database (with --warehouse)")
    ap.add_argument("--before", type=Path, help="another copy of dbt_project to time side by side")
    ap.add_argument("--after", type=Path, default=REPO / "dbt_project", help="the project measured (default: this one)")
    ap.add_argument("--explain", type=Path, help="folder for EXPLAIN (ANALYZE, BUFFERS) of the risk models")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    PLANNED_AHEAD[0] = args.planned_ahead
    n, spd = args.days, max(1, round(CITY_SESSIONS_PER_DAY * args.scale))
    projects = {"after": args.after.resolve()}
    if args.before:
        projects = {"before": args.before.resolve(), **projects}

    with scratch_server(args.warehouse, "profile_risk_") as server, \
            scratch_database(server, "profile_risk_", keep=args.keep and server.pgdata is None) as url:
        bootstrap(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(STATIC_SQL.format(spd=spd, start=START - timedelta(days=1)))
        load_days(url, 0, n, spd)
        dbt(projects["after"], ["seed"], url)
        dbt(projects["after"], ["run", "--exclude", "tag:after_alerts"], url, {"run_date": str(START + timedelta(days=n - 1))})
        short = point(projects, url, n, spd, args.repeat, server, args.explain, f"d{n}")
        print(f"after {n} days: {json.dumps(short['risk'])}; same rows: {short['same_rows_as_first_full_rebuild']}",
              flush=True)
        load_days(url, n + 1, 10 * n, spd)
        dbt(projects["after"], ["run", "--exclude", "tag:after_alerts"], url,
            {"run_date": str(START + timedelta(days=10 * n - 1))})
        long = point(projects, url, 10 * n, spd, args.repeat, server, args.explain, f"d{10 * n}")
        print(f"after {10 * n} days: {json.dumps(long['risk'])}; same rows: {long['same_rows_as_first_full_rebuild']}",
              flush=True)

        a, b = short["whole_run_models_s"], long["whole_run_models_s"]
        grown = sorted(b, key=lambda m: a.get(m, 0) - b[m])[:15]
        print(f"whole run {short['whole_run_s']} s -> {long['whole_run_s']} s; models that grew most: "
              + ", ".join(f"{m} {a.get(m, 0):.2f}->{b[m]:.2f}" for m in grown))
        for name in projects:
            s, lg = short["risk"][name], long["risk"][name]
            print(f"risk models, {name}: {s['total_s']} s after {n} days -> {lg['total_s']} s after {10 * n} days; "
                  + ", ".join(f"{m} {s['models_s'].get(m, 0):.2f}->{lg['models_s'].get(m, 0):.2f}" for m in RISK_MODELS))
        emit("profile_risk", days_short=n, days_long=10 * n, scale=args.scale, sessions_per_day=spd,
             short=short, long=long)
    return 0


if __name__ == "__main__":
    sys.exit(main())
