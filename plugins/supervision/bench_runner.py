"""`supervision bench`: run every benchmark in bench/, print one table of figures and the goals.

Each benchmark is a script that prints human lines and, last, one JSON line with at least
"bench"; every figure it reports (seconds, rates, peak memory) goes into the table. The result
lines of a run are appended, as they arrive, to ``var/bench/results-<time>.jsonl``, whose path a
benchmark finds in ``BENCH_RESULTS``: the daily run's year by extrapolation reads the
growth that ``bench_dbt.py`` measured earlier in the same run, so ``bench_dbt.py`` runs first.
The suite's clone (``bench_suite.py``) runs last: it tests the committed code and takes the
machine for a quarter of an hour.

After the table, ``GOALS`` (the daily run's goals) are printed against the figures of this run:
measured, goal, met or not, or "not measured" when the benchmark behind a goal did not run.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervision.config import settings

# run first (others read their results) and last (the suite's clone tests the committed code)
FIRST = ("bench_dbt",)
LAST = ("bench_suite",)
RESULTS_ENV = "BENCH_RESULTS"  # a hand-off from the runner to its benchmarks, not a setting


@dataclass(frozen=True)
class Goal:
    name: str
    bench: str                                     # the "bench" of the result line it reads
    figure: Callable[[dict[str, Any]], float | None]
    limit: float                                   # met when the figure is at most this
    unit: str
    how: str                                       # which figure, in words

    def judge(self, results: dict[str, dict[str, Any]]) -> tuple[float | None, str]:
        r = results.get(self.bench)
        value = self.figure(r) if r is not None else None
        if value is None:
            return None, "not measured"
        return value, "met" if value <= self.limit else "NOT met"


def _get(*keys: str) -> Callable[[dict[str, Any]], float | None]:
    def read(r: dict[str, Any]) -> float | None:
        v: Any = r
        for k in keys:
            if not isinstance(v, dict) or v.get(k) is None:
                return None
            v = v[k]
        return float(v)
    return read


GOALS = (
    Goal("one small day (scale 0.01) through `supervision run`", "small_day", _get("wall_s"), 15, "s",
         "median process wall of the measured days"),
    Goal("one city-scale day through every DAG", "daily_city", _get("dag_runs_s_max"), 90, "s",
         "DAG runs of the slowest measured day after the go-live"),
    Goal("go-live: the first run over a quarter of city-scale history", "daily_city", _get("go_live_s"), 1800, "s",
         "process wall of the first run"),
    Goal("a year of city-scale days, by extrapolation", "daily_city", _get("year_extrapolated_h"), 4, "h",
         "go-live + the slowest day's wall, growing as bench_dbt measured"),
    Goal("`make test` from a fresh clone", "suite", _get("wall_s"), 720, "s", "wall of `make test` in a clone"),
    Goal("peak memory of a city day, whole process tree with PostgreSQL (PSS)", "daily_city",
         _get("peak_pss_mib"), 2048, "MiB", "the highest of the go-live and the measured days"),
)


def order(scripts: list[Path]) -> list[Path]:
    """``FIRST`` first, ``LAST`` last, the others by name."""
    def key(p: Path) -> tuple[int, str]:
        return (0 if p.stem in FIRST else 2 if p.stem in LAST else 1, p.stem)
    return sorted(scripts, key=key)


def goals_table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| goal | measured | goal | verdict | figure |", "|---|---:|---:|---|---|"]
    for g in GOALS:
        value, verdict = g.judge(results)
        shown = "–" if value is None else f"{value:,.1f} {g.unit}"
        lines.append(f"| {g.name} | {shown} | ≤ {g.limit:,.0f} {g.unit} | {verdict} | {g.how} |")
    return lines


def run_benchmarks(only: list[str] | None = None, quick: bool = False) -> int:
    home = settings().home
    scripts = order(list((home / "bench").glob("bench_*.py")))
    if only:
        scripts = [p for p in scripts if any(o in p.stem for o in only)]
    out_dir = settings().var_dir / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    results_file = out_dir / f"results-{dt.datetime.now():%Y%m%dT%H%M%S}.jsonl"
    results_file.touch()
    env = {**os.environ, RESULTS_ENV: str(results_file)}
    rows, failed = [], []
    latest: dict[str, dict[str, Any]] = {}
    for script in scripts:
        t = time.monotonic()
        args = [sys.executable, str(script)] + (["--quick"] if quick else [])
        print(f"== {script.name}", flush=True)
        proc = subprocess.run(args, capture_output=True, text=True, env=env)
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            failed.append(script.name)
            sys.stderr.write(proc.stderr[-3000:])
            continue
        results = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{\"bench\"")]
        with results_file.open("a", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
                latest[r["bench"]] = dict(r)
        for r in results or [{"bench": script.stem}]:
            rows.append((r.pop("bench"), r, time.monotonic() - t))
    print("\n| benchmark | figures | wall s |\n|---|---|---|")
    for name, figures, wall in rows:
        fig = ", ".join(f"{k}={v}" for k, v in figures.items())
        print(f"| {name} | {fig} | {wall:.1f} |")
    note = " (quick sizes, not the goals' own)" if quick else ""
    print(f"\nThe daily run's goals{note}:\n")
    print("\n".join(goals_table(latest)))
    print(f"\nresult lines: {results_file}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def results_so_far() -> list[dict[str, Any]]:
    """The result lines of the benchmarks run before this one in the same `supervision bench`
    (empty when a benchmark runs alone)."""
    path = os.environ.get(RESULTS_ENV)
    if not path or not Path(path).is_file():
        return []
    return [json.loads(ln) for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
