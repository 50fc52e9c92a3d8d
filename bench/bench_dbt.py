"""Benchmark: does a day's dbt build cost the same after N days of history as after 10N?

Synthetic raw rows are inserted straight into raw_* (sessions, attendance, video events,
enrollments, claims) for N days at a share of city scale (city = 1,500 held sessions a working
day, 30 trainees each: --scale 1.0), the project is built once in full, one more day is loaded
and the day's run is timed (two days in a row, the faster counts); then history is extended to 10N
days and the same is timed again. Each day also brings the sessions planned for --planned-ahead
days later (default 30; status scheduled, held on their day), the shape of a live training
platform whose planned sessions lie after the run's day (held-out data: 873 of 2,027 sessions
after the run's day). --status-every N: the cameras send a status on every N-th day only, so the
latest status before a session lies days back (a camera that reports only changes of state). Three figures per point: the incremental per-session facts alone, the whole daily run
(`dbt run` of staging, intermediate, core, the 16 rules and the marts the DAG builds before the
alert upkeep), and the data tests of that build (`dbt test`, no unit tests), with the slowest
models of the run (dbt's run_results.json), the models that grew most between the two points and
the risk models' seconds (models/risk/) at both.
Prints seconds and peak memory of each step (harness.PeakMemory: this process, where dbt runs; the
PostgreSQL server's largest backend; the PSS of both together); the last line is JSON:
{"bench": "dbt_incremental", ...}.

    .venv/bin/python bench/bench_dbt.py --quick              # 3 vs 30 days, 0.04 of the city
    .venv/bin/python bench/bench_dbt.py                      # 30 vs 300 days, 0.2 of the city
    .venv/bin/python bench/bench_dbt.py --days 30 --scale 1.0
    .venv/bin/python bench/bench_dbt.py --status-every 7     # statuses weekly
    .venv/bin/python bench/bench_dbt.py --warehouse postgresql://...   # an existing server (a new database is made)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
from harness import PeakMemory, Server, emit, mib, scratch_database, scratch_server

from supervision.dbt_runner import run_dbt
from supervision.warehouse import bootstrap

INCREMENTAL_FACTS = ["fct_attendance", "fct_session_checkins", "fct_session_checkin_bursts",
                     "fct_session_video_coverage", "fct_session_face_matches"]
START = date(2024, 1, 1)

CITY_SESSIONS_PER_DAY = 1500
TRAINEES_PER_SESSION = 30

STATIC_SQL = """
insert into raw_training.occupations values ('O1', 'occ', 'life_service', true, timestamptz '{start} 00:00+08');
insert into raw_training.institutions
select 'I' || i, 'inst', 'cc', 'private', (array['310101','310104','310105','310115'])[1 + i % 4],
       '2020-01-01', '2030-12-31', timestamptz '{start} 00:00+08' from generate_series(0, 19) i;
insert into raw_training.institution_occupations select 'I' || i, 'O1', '2020-01-01', '2030-12-31', timestamptz '{start} 00:00+08'
from generate_series(0, 19) i;
insert into raw_training.sites select 'X' || i, 'I' || (i % 20), (array['310101','310104','310105','310115'])[1 + (i % 20) % 4],
       'addr', true, timestamptz '{start} 00:00+08' from generate_series(0, {spd} - 1) i;
insert into raw_training.cameras select 'C' || i, 'X' || i, '2020-01-01', timestamptz '{start} 00:00+08' from generate_series(0, {spd} - 1) i;
update raw_training.occupations set _loaded_at = timestamptz '{start} 00:00+08';
update raw_training.institutions set _loaded_at = timestamptz '{start} 00:00+08';
update raw_training.institution_occupations set _loaded_at = timestamptz '{start} 00:00+08';
update raw_training.sites set _loaded_at = timestamptz '{start} 00:00+08';
update raw_training.cameras set _loaded_at = timestamptz '{start} 00:00+08';
"""

# One local day d (0-based), its video in its own partition of raw_video.events as the video loader
# makes them (all days in the DEFAULT partition would make every local_date lookup grow with
# history): spd sessions of 3 hours at their own site; classes rotate every 20 days with tps
# trainees each; every trainee checks in and out; the site's camera sends an online status (on
# every --status-every-th day only), a headcount every minute and a face event per trainee. The training rows carry the _loaded_at of
# the nightly pull that would have brought them (01:00 the next day), not the bench's clock: the
# history of 300 days is written in minutes, and stamps that close would make "the rows loaded in
# the last day" (what a daily data test reads, macros/data_tests_scope.sql) the whole history.
DAY_SQL = """
insert into raw_training.classes
select 'K' || i || '_' || ({d} / 20), 'I' || (i % 20), 'O1', 4, 'standard', true, 60,
       date '{start}' + ({d} / 20) * 20, date '{start}' + ({d} / 20) * 20 + 19, 'running', {loaded_at}
from generate_series(0, {spd} - 1) i
where {d} % 20 = 0;
insert into raw_training.trainees
select 'T' || i || '_' || ({d} / 20) || '_' || k, md5(i || '_' || ({d} / 20) || '_' || k), 'masked', true, null, true,
       'F', '1990-01-01', true, {loaded_at}
from generate_series(0, {spd} - 1) i, generate_series(0, {tps} - 1) k
where {d} % 20 = 0;
insert into raw_training.enrollments
select 'E' || i || '_' || ({d} / 20) || '_' || k, 'K' || i || '_' || ({d} / 20), 'T' || i || '_' || ({d} / 20) || '_' || k,
       (date '{start}' + ({d} / 20) * 20)::timestamptz - interval '1 day', 'completed', date '{start}' + ({d} / 20) * 20 + 19, {loaded_at}
from generate_series(0, {spd} - 1) i, generate_series(0, {tps} - 1) k
where {d} % 20 = 0;
insert into raw_training.subsidy_claims
select 'CL' || i || '_' || ({d} / 20) || '_' || k, 'E' || i || '_' || ({d} / 20) || '_' || k,
       'T' || i || '_' || ({d} / 20) || '_' || k, null, 1000, (date '{day}' + time '10:00') at time zone 'Asia/Shanghai',
       'submitted', {loaded_at}
from generate_series(0, {spd} - 1) i, generate_series(0, {tps} - 1) k
where {d} % 20 = 19;
-- the day's sessions are held: new rows, or the planned rows of --planned-ahead days ago updated,
-- as the platform updates a planned session when it takes place
insert into raw_training.sessions
select 'S' || {d} || '_' || i, 'K' || i || '_' || ({d} / 20), 'X' || i,
       (date '{day}' + time '09:00') at time zone 'Asia/Shanghai', (date '{day}' + time '12:00') at time zone 'Asia/Shanghai',
       'onsite', 'held', {loaded_at}
from generate_series(0, {spd} - 1) i
on conflict (session_id) do update set status = excluded.status, updated_at = excluded.updated_at,
    _loaded_at = now();
insert into raw_training.attendance
select {d}::bigint * 1000000 + i * 100 + k * 2 + e, 'S' || {d} || '_' || i, 'T' || i || '_' || ({d} / 20) || '_' || k,
       case e when 0 then 'check_in' else 'check_out' end, 'face', 'D' || i,
       (date '{day}' + case e when 0 then time '08:55' else time '12:00' end) at time zone 'Asia/Shanghai'
           + k * interval '7 seconds', 0.9, {loaded_at}
from generate_series(0, {spd} - 1) i, generate_series(0, {tps} - 1) k, generate_series(0, 1) e;
-- --planned-ahead K: the training platform also holds the sessions planned for day d + K (status
-- scheduled, for the class they will be held in), as a live platform does: at any day K days of
-- planned sessions lie after the run's day (the held-out data's shape: 873 of 2,027 sessions), and
-- a go-live's first pull brings all of them at once
insert into raw_training.sessions
select 'S' || ({d} + {ahead}) || '_' || i, 'K' || i || '_' || (({d} + {ahead}) / 20), 'X' || i,
       (date '{day}' + {ahead} + time '09:00') at time zone 'Asia/Shanghai',
       (date '{day}' + {ahead} + time '12:00') at time zone 'Asia/Shanghai', 'onsite', 'scheduled', {loaded_at}
from generate_series(0, {spd} - 1) i
where {ahead} > 0
on conflict (session_id) do nothing;
create table if not exists raw_video.events_{day_compact} partition of raw_video.events
    for values from ('{day}') to ('{next_day}');
insert into raw_video.events (event_id, camera_id, ts, type, state, count, trainee_id, score, local_date, file_id, line_no, _loaded_at)
select gen_random_uuid(), 'C' || i, (date '{day}' + time '08:55') at time zone 'Asia/Shanghai' + m * interval '1 minute',
       case when m = 0 and {d} % {status_every} = 0 then 'status' else 'headcount' end,
       case when m = 0 and {d} % {status_every} = 0 then 'online' end,
       case when m > 0 or {d} % {status_every} <> 0 then 20 end, null, null::numeric, date '{day}', {d}, i * 1000 + m,
       {loaded_at}
from generate_series(0, {spd} - 1) i, generate_series(0, 185) m;
insert into raw_video.events (event_id, camera_id, ts, type, state, count, trainee_id, score, local_date, file_id, line_no, _loaded_at)
select gen_random_uuid(), 'C' || i, (date '{day}' + time '09:02') at time zone 'Asia/Shanghai' + k * interval '3 seconds',
       'face', null, null, 'T' || i || '_' || ({d} / 20) || '_' || k, 0.9, date '{day}', {d}, i * 1000 + 500 + k, {loaded_at}
from generate_series(0, {spd} - 1) i, generate_series(0, {tps} - 1) k;
-- the loaders' stamp (the column defaults to the clock; the index on it finds today's rows)
update raw_training.classes set _loaded_at = {loaded_at} where _loaded_at > {loaded_at};
update raw_training.trainees set _loaded_at = {loaded_at} where _loaded_at > {loaded_at};
update raw_training.enrollments set _loaded_at = {loaded_at} where _loaded_at > {loaded_at};
update raw_training.subsidy_claims set _loaded_at = {loaded_at} where _loaded_at > {loaded_at};
update raw_training.sessions set _loaded_at = {loaded_at} where _loaded_at > {loaded_at};
update raw_training.attendance set _loaded_at = {loaded_at} where _loaded_at > {loaded_at};
"""


PLANNED_AHEAD = [0]  # --planned-ahead: days of planned sessions after each loaded day
STATUS_EVERY = [1]   # --status-every: the cameras send their status on every N-th day only


def load_days(url: str, first: int, last: int, spd: int) -> float:
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for d in range(first, last):
            day = START + timedelta(days=d)
            conn.execute(DAY_SQL.format(d=d, day=day, day_compact=f"{day:%Y%m%d}", next_day=day + timedelta(days=1),
                                        start=START, spd=spd, tps=TRAINEES_PER_SESSION, ahead=PLANNED_AHEAD[0],
                                        status_every=STATUS_EVERY[0],
                                        loaded_at=f"timestamptz '{day + timedelta(days=1)} 01:00+08'"))
        # vacuum, not only analyze: the stamps above are updates, whose dead row versions carry the
        # bench's clock and sit at the top of every _loaded_at index, where max(_loaded_at) and the
        # daily tests' bounds would wade through them (the loaders insert with their stamp: no such rows)
        conn.execute("vacuum analyze")
    return time.perf_counter() - t0


TARGET = Path(tempfile.mkdtemp(prefix="bench_dbt_target_"))  # run_results.json of the timed runs


MEMORY_FIGURES = ("peak_rss_mib", "postgres_largest_backend_rss_mib", "peak_pss_mib")


def timed(args: list[str], url: str, vars: dict, server: Server) -> dict:
    """Seconds, per-model seconds and peak memory of one dbt invocation."""
    t0 = time.perf_counter()
    with PeakMemory(os.getpid(), server=server) as memory:
        run_dbt([*args, "--target-path", str(TARGET)], url, vars=vars)
    seconds = time.perf_counter() - t0
    results = json.loads((TARGET / "run_results.json").read_text())["results"]
    per_node = {r["unique_id"].split(".")[-1] if r["unique_id"].startswith("model.") else r["unique_id"]:
                round(r["execution_time"], 2) for r in results}
    return {"s": round(seconds, 2), "peak_rss_mib": mib(memory.roots_rss),
            "postgres_largest_backend_rss_mib": mib(memory.server_largest_rss), "peak_pss_mib": mib(memory.pss),
            "per_node_s": per_node}


def measure_day(url: str, day_index: int, spd: int, server: Server) -> dict:
    """Load day `day_index`; time that day's incremental facts, then the whole daily run, then its data tests."""
    load_days(url, day_index, day_index + 1, spd)
    run_date = {"run_date": str(START + timedelta(days=day_index))}
    facts = timed(["run", "--select", *INCREMENTAL_FACTS], url, run_date, server)
    whole = timed(["run", "--exclude", "tag:after_alerts"], url, run_date, server)
    tests = timed(["test", "--exclude", "tag:after_alerts", "test_type:unit"], url, run_date, server)
    with psycopg.connect(url) as conn:
        rows = {t: conn.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("raw_video.events", "raw_training.attendance", "raw_training.sessions",
                          "raw_training.subsidy_claims", "rules.rule_findings")}
    return {"day": day_index, "rows": rows, "incremental_facts": facts, "whole_run": whole, "data_tests": tests}


def measure_days(url: str, first_day: int, spd: int, server: Server, days: int = 2) -> dict:
    """`days` daily runs in a row; per step the fastest (the machine may be shared: the least disturbed
    run is the best estimate of the cost), with the seconds of every day beside it."""
    runs = [measure_day(url, first_day + i, spd, server) for i in range(days)]
    point = {"days": [r["day"] for r in runs], "rows": runs[-1]["rows"]}
    for step in ("incremental_facts", "whole_run", "data_tests"):
        best = min((r[step] for r in runs), key=lambda x: x["s"])
        point[step] = {**best, "s_each_day": [r[step]["s"] for r in runs],
                       **{k: max(r[step][k] for r in runs) for k in MEMORY_FIGURES}}
    return point


def figures(point: dict) -> str:
    return "; ".join(f"{k} {point[k]['s']:.1f} s (dbt process {point[k]['peak_rss_mib']} MiB, "
                     f"largest server backend {point[k]['postgres_largest_backend_rss_mib']} MiB, "
                     f"with PostgreSQL PSS {point[k]['peak_pss_mib']} MiB)"
                     for k in ("incremental_facts", "whole_run", "data_tests"))


def main() -> int:
    try:
        return measure()
    finally:
        shutil.rmtree(TARGET, ignore_errors=True)


def measure() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 vs 30 days at 0.04 of the city")
    ap.add_argument("--days", type=int, default=30, help="N: the short history (the long one is 10 N)")
    ap.add_argument("--scale", type=float, default=0.2,
                    help=f"share of the city's {CITY_SESSIONS_PER_DAY} held sessions a day ({TRAINEES_PER_SESSION} trainees each)")
    ap.add_argument("--warehouse", help="owner URL of a PostgreSQL server; default: a temporary embedded one")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database (with --warehouse)")
    ap.add_argument("--planned-ahead", type=int, default=30,
                    help="days of planned sessions the training platform holds after each day (0: none)")
    ap.add_argument("--status-every", type=int, default=1,
                    help="the cameras send a status event on every N-th day only (a camera that reports its state "
                         "when it changes): the latest status before a session lies days back")
    args = ap.parse_args()
    PLANNED_AHEAD[0] = args.planned_ahead
    STATUS_EVERY[0] = max(1, args.status_every)
    n, scale = (3, 0.04) if args.quick else (args.days, args.scale)
    spd = max(1, round(CITY_SESSIONS_PER_DAY * scale))

    print(f"{spd} held sessions a day x {TRAINEES_PER_SESSION} trainees ({scale:g} of the city), "
          f"{n} vs {10 * n} days of history")
    with scratch_server(args.warehouse, "bench_dbt_") as server, \
            scratch_database(server, "bench_dbt_", keep=args.keep and server.pgdata is None) as url:
        bootstrap(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(STATIC_SQL.format(spd=spd, start=START - timedelta(days=1)))
        t_load = load_days(url, 0, n, spd)
        run_dbt(["seed"], url)
        t0 = time.perf_counter()
        run_dbt(["run", "--exclude", "tag:after_alerts"], url, vars={"run_date": str(START + timedelta(days=n - 1))})
        t_full = time.perf_counter() - t0
        print(f"history of {n} days loaded in {t_load:.1f}s, first full build {t_full:.1f}s", flush=True)
        short = measure_days(url, n, spd, server)
        print(f"after {n} days ({short['rows']}): {figures(short)}", flush=True)
        t_load = load_days(url, n + 2, 10 * n, spd)
        t0 = time.perf_counter()
        run_dbt(["run", "--exclude", "tag:after_alerts"], url, vars={"run_date": str(START + timedelta(days=10 * n - 1))})
        print(f"history extended to {10 * n} days in {t_load:.1f}s, caught up in {time.perf_counter() - t0:.1f}s",
              flush=True)
        long = measure_days(url, 10 * n, spd, server)
        print(f"after {10 * n} days ({long['rows']}): {figures(long)}")
        for step in ("whole_run", "data_tests"):
            a, b = short[step]["per_node_s"], long[step]["per_node_s"]
            grown = sorted(b, key=lambda m: a.get(m, 0) - b[m])[:8]
            print(f"{step}: nodes that grew most (s after {n} -> {10 * n} days): "
                  + ", ".join(f"{m} {a.get(m, 0):.2f}->{b[m]:.2f}" for m in grown))
        risk = {label: sum(v for m, v in p["whole_run"]["per_node_s"].items() if "risk" in m)
                for label, p in (("short", short), ("long", long))}
        print(f"risk models (models/risk/): {risk['short']:.2f}s after {n} days "
              f"({risk['short'] / short['whole_run']['s']:.1%} of the run), {risk['long']:.2f}s after {10 * n} days "
              f"({risk['long'] / long['whole_run']['s']:.1%})")
        growth = {step: long[step]["s"] / short[step]["s"] - 1 for step in ("incremental_facts", "whole_run", "data_tests")}
        build_short = short["whole_run"]["s"] + short["data_tests"]["s"]
        build_long = long["whole_run"]["s"] + long["data_tests"]["s"]
        growth["whole_build"] = build_long / build_short - 1
        peaks = {k: max(p[step][k] for p in (short, long) for step in ("incremental_facts", "whole_run", "data_tests"))
                 for k in MEMORY_FIGURES}
        print(f"incremental facts: {short['incremental_facts']['s']}s -> {long['incremental_facts']['s']}s "
              f"({growth['incremental_facts']:+.0%}); whole run: {short['whole_run']['s']}s -> {long['whole_run']['s']}s "
              f"({growth['whole_run']:+.0%}); data tests: {short['data_tests']['s']}s -> {long['data_tests']['s']}s "
              f"({growth['data_tests']:+.0%}); run + tests: {build_short:.1f}s -> {build_long:.1f}s ({growth['whole_build']:+.0%}); "
              f"peak RSS: dbt process {peaks['peak_rss_mib']} MiB, largest server backend "
              f"{peaks['postgres_largest_backend_rss_mib']} MiB; with PostgreSQL PSS {peaks['peak_pss_mib']} MiB")
        emit("dbt_incremental", days_short=n, days_long=10 * n, scale=scale, sessions_per_day=spd,
             planned_ahead_days=args.planned_ahead, status_every_days=STATUS_EVERY[0], risk_models_s=risk,
             trainees_per_session=TRAINEES_PER_SESSION, short=short, long=long,
             growth={k: round(v, 3) for k, v in growth.items()}, goal_growth_max=0.2,
             whole_run_ok=growth["whole_run"] <= 0.2, **peaks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
