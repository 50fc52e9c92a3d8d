"""`supervision bench`'s goals table, run order and hand-over between benchmarks; the figures the
daily run's and the suite's benchmarks derive (a year by extrapolation, pytest's counts)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from supervision import bench_runner

BENCH = Path(__file__).resolve().parents[1] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import bench_daily  # noqa: E402
import bench_suite  # noqa: E402


def _verdicts(results: dict) -> dict[str, str]:
    rows = bench_runner.goals_table(results)[2:]
    return {r.split(" | ")[0].lstrip("| "): r.split(" | ")[3] for r in rows}


def test_goals_are_judged_against_their_limits_and_missing_benchmarks_are_named():
    results = {
        "small_day": {"wall_s": 15.0},
        "daily_city": {"dag_runs_s_max": 90.1, "go_live_s": 1750.0, "year_extrapolated_h": 9.4,
                       "peak_pss_mib": 1700},
    }
    verdicts = _verdicts(results)
    assert verdicts["one small day (scale 0.01) through `supervision run`"] == "met"  # at the limit
    assert verdicts["one city-scale day through every DAG"] == "NOT met"
    assert verdicts["go-live: the first run over a quarter of city-scale history"] == "met"
    assert verdicts["a year of city-scale days, by extrapolation"] == "NOT met"
    assert verdicts["`make test` from a fresh clone"] == "not measured"
    assert verdicts["peak memory of a city day, whole process tree with PostgreSQL (PSS)"] == "met"
    # a day without a year (no growth measured) is not a year that met its goal
    del results["daily_city"]["year_extrapolated_h"]
    assert _verdicts(results)["a year of city-scale days, by extrapolation"] == "not measured"


def test_the_growth_benchmark_runs_first_and_the_suites_clone_last():
    names = ["bench_daily", "bench_suite", "bench_gx", "bench_dbt", "bench_small_day"]
    ordered = [p.stem for p in bench_runner.order([Path(f"{n}.py") for n in names])]
    assert ordered == ["bench_dbt", "bench_daily", "bench_gx", "bench_small_day", "bench_suite"]


def test_the_daily_bench_reads_the_growth_measured_earlier_in_the_same_run(tmp_path, monkeypatch):
    results = tmp_path / "results.jsonl"
    results.write_text(json.dumps({"bench": "gx", "seconds": 3}) + "\n"
                       + json.dumps({"bench": "dbt_incremental", "growth": {"whole_build": 0.25}}) + "\n")
    monkeypatch.setenv(bench_runner.RESULTS_ENV, str(results))
    assert bench_daily.growth_from_this_run() == pytest.approx(1.25)
    monkeypatch.delenv(bench_runner.RESULTS_ENV)
    assert bench_daily.growth_from_this_run() is None


def test_a_year_by_extrapolation_is_the_go_live_and_the_growing_days():
    flat = bench_daily.year_by_extrapolation(91, 1800.0, 60.0, 1.0)
    assert flat["year_extrapolated_h"] == pytest.approx((1800 + 274 * 60) / 3600, abs=0.01)
    grown = bench_daily.year_by_extrapolation(91, 1800.0, 60.0, 1.28)
    # day d (0-based) costs 60 (1 + 0.28 d / 270): the last of 274 days costs 60 x 1.284
    expected = 1800 + sum(60 * (1 + 0.28 * d / 270) for d in range(274))
    assert grown["year_extrapolated_h"] == pytest.approx(expected / 3600, abs=0.01)


def test_the_median_and_the_slowest_of_the_measured_days():
    days = [{"day": "2024-04-01", "dag_runs_s": 90.0, "wall_s": 95.0},
            {"day": "2024-04-02", "dag_runs_s": 80.0, "wall_s": 84.0},
            {"day": "2024-04-03", "dag_runs_s": 85.0, "wall_s": 89.0}]
    s = bench_daily.summary(days)
    assert (s["dag_runs_s_median"], s["dag_runs_s_max"], s["wall_s_median"], s["wall_s_max"]) == (85.0, 90.0, 89.0,
                                                                                                   95.0)


def test_every_pytest_process_of_the_suite_is_counted():
    output = "\n".join([
        "tests/test_x.py ....",
        "=========== 291 passed, 2 skipped, 79 deselected in 612.40s (0:10:12) ===========",
        "some other line with 3 passed in it",
        "====== 1 failed, 69 passed, 1 error in 70.1s (0:01:10) ======",
    ])
    assert bench_suite.pytest_counts(output) == {"passed": 360, "skipped": 2, "failed": 1, "error": 1}
