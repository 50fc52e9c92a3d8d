"""Benchmark: does a day's incremental dbt run cost the same after N days of history as after 10N?

Synthetic raw rows are inserted straight into raw_* (sessions, attendance, video events,
enrollments, claims) for N days, the project is built once in full, one more day is loaded and the
day's run is timed; then history is extended to 10N days and the same day-run is timed again.
Two figures per point: the incremental per-session facts alone, and the whole project (staging
views, core tables, the 16 rules, the marts). Prints seconds and peak memory; the last line is JSON:
{"bench": "dbt_incremental", ...}.

    .venv/bin/python bench/bench_dbt.py --quick              # 3 vs 30 days, 60 sessions/day
    .venv/bin/python bench/bench_dbt.py --days 30 --sessions-per-day 300
    .venv/bin/python bench/bench_dbt.py --warehouse postgresql://...   # an existing server (a new database is made)
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

from supervision.dbt_runner import run_dbt  # noqa: E402
from supervision.warehouse import bootstrap  # noqa: E402

INCREMENTAL_FACTS = ["fct_attendance", "fct_session_checkins", "fct_session_checkin_bursts",
                     "fct_session_video_coverage", "fct_session_face_matches"]
START = date(2024, 1, 1)

# The index below is not (yet) in warehouse.sql: fct_attendance picks up new and corrected rows by
# _loaded_at, which without it is a scan of the whole raw attendance table. Recommended to the
# owner of the raw DDL; created here so the bench measures the intended deployment.
STATIC_SQL = """
create index if not exists attendance_loaded_at_idx on raw_training.attendance (_loaded_at);
insert into raw_training.occupations values ('O1', 'occ', 'life_service', true, now());
insert into raw_training.institutions
select 'I' || i, 'inst', 'cc', 'private', (array['310101','310104','310105','310115'])[1 + i % 4],
       '2020-01-01', '2030-12-31', now() from generate_series(0, 19) i;
insert into raw_training.institution_occupations select 'I' || i, 'O1', '2020-01-01', '2030-12-31', now()
from generate_series(0, 19) i;
insert into raw_training.sites select 'X' || i, 'I' || (i % 20), (array['310101','310104','310105','310115'])[1 + (i % 20) % 4],
       'addr', true, now() from generate_series(0, {spd} - 1) i;
insert into raw_training.cameras select 'C' || i, 'X' || i, '2020-01-01', now() from generate_series(0, {spd} - 1) i;
"""

# One local day d (0-based): spd sessions of 3 hours at their own site; classes rotate every 20 days
# with 20 trainees each; every trainee checks in and out; the site's camera sends an online status,
# a headcount every minute and a face event per trainee.
DAY_SQL = """
insert into raw_training.classes
select 'K' || i || '_' || ({d} / 20), 'I' || (i % 20), 'O1', 4, 'standard', true, 60,
       date '{start}' + ({d} / 20) * 20, date '{start}' + ({d} / 20) * 20 + 19, 'running', now()
from generate_series(0, {spd} - 1) i
where {d} % 20 = 0;
insert into raw_training.trainees
select 'T' || i || '_' || ({d} / 20) || '_' || k, md5(i || '_' || ({d} / 20) || '_' || k), 'masked', true, null, true,
       'F', '1990-01-01', true, now()
from generate_series(0, {spd} - 1) i, generate_series(0, 19) k
where {d} % 20 = 0;
insert into raw_training.enrollments
select 'E' || i || '_' || ({d} / 20) || '_' || k, 'K' || i || '_' || ({d} / 20), 'T' || i || '_' || ({d} / 20) || '_' || k,
       now(), 'completed', date '{start}' + ({d} / 20) * 20 + 19, now()
from generate_series(0, {spd} - 1) i, generate_series(0, 19) k
where {d} % 20 = 0;
insert into raw_training.subsidy_claims
select 'CL' || i || '_' || ({d} / 20) || '_' || k, 'E' || i || '_' || ({d} / 20) || '_' || k,
       'T' || i || '_' || ({d} / 20) || '_' || k, null, 1000, (date '{day}' + time '10:00') at time zone 'Asia/Shanghai',
       'submitted', now()
from generate_series(0, {spd} - 1) i, generate_series(0, 19) k
where {d} % 20 = 19;
insert into raw_training.sessions
select 'S' || {d} || '_' || i, 'K' || i || '_' || ({d} / 20), 'X' || i,
       (date '{day}' + time '09:00') at time zone 'Asia/Shanghai', (date '{day}' + time '12:00') at time zone 'Asia/Shanghai',
       'onsite', 'held', now()
from generate_series(0, {spd} - 1) i;
insert into raw_training.attendance
select {d}::bigint * 1000000 + i * 100 + k * 2 + e, 'S' || {d} || '_' || i, 'T' || i || '_' || ({d} / 20) || '_' || k,
       case e when 0 then 'check_in' else 'check_out' end, 'face', 'D' || i,
       (date '{day}' + case e when 0 then time '08:55' else time '12:00' end) at time zone 'Asia/Shanghai'
           + k * interval '7 seconds', 0.9, now()
from generate_series(0, {spd} - 1) i, generate_series(0, 19) k, generate_series(0, 1) e;
insert into raw_video.events (event_id, camera_id, ts, type, state, count, trainee_id, score, local_date, file_id, line_no)
select gen_random_uuid(), 'C' || i, (date '{day}' + time '08:55') at time zone 'Asia/Shanghai' + m * interval '1 minute',
       case when m = 0 then 'status' else 'headcount' end, case when m = 0 then 'online' end,
       case when m > 0 then 20 end, null, null::numeric, date '{day}', {d}, i * 1000 + m
from generate_series(0, {spd} - 1) i, generate_series(0, 185) m;
insert into raw_video.events (event_id, camera_id, ts, type, state, count, trainee_id, score, local_date, file_id, line_no)
select gen_random_uuid(), 'C' || i, (date '{day}' + time '09:02') at time zone 'Asia/Shanghai' + k * interval '3 seconds',
       'face', null, null, 'T' || i || '_' || ({d} / 20) || '_' || k, 0.9, date '{day}', {d}, i * 1000 + 500 + k
from generate_series(0, {spd} - 1) i, generate_series(0, 19) k;
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_days(url: str, first: int, last: int, spd: int) -> float:
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for d in range(first, last):
            conn.execute(DAY_SQL.format(d=d, day=START + timedelta(days=d), start=START, spd=spd))
        conn.execute("analyze")
    return time.perf_counter() - t0


def timed(args: list[str], url: str, vars: dict) -> float:
    t0 = time.perf_counter()
    run_dbt(args, url, vars=vars)
    return time.perf_counter() - t0


def measure_day(url: str, day_index: int, spd: int) -> dict:
    """Load day `day_index` and time that day's incremental facts, then the whole project."""
    load_days(url, day_index, day_index + 1, spd)
    run_date = {"run_date": str(START + timedelta(days=day_index))}
    facts = timed(["run", "--select", *INCREMENTAL_FACTS], url, run_date)
    everything = timed(["run", "--exclude", "tag:after_alerts"], url, run_date)
    with psycopg.connect(url) as conn:
        rows = {t: conn.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("raw_video.events", "raw_training.attendance", "raw_training.sessions")}
    return {"day": day_index, "incremental_facts_s": round(facts, 2), "whole_run_s": round(everything, 2),
            "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 vs 30 days, 60 sessions a day")
    ap.add_argument("--days", type=int, default=30, help="N: the short history (the long one is 10 N)")
    ap.add_argument("--sessions-per-day", type=int, default=300)
    ap.add_argument("--warehouse", help="owner URL of a PostgreSQL server; default: a temporary embedded one")
    args = ap.parse_args()
    n, spd = (3, 60) if args.quick else (args.days, args.sessions_per_day)

    server = None
    if args.warehouse:
        admin = args.warehouse.rsplit("/", 1)[0] + "/postgres"
    else:
        from supervision.config import Settings
        from supervision.warehouse import EmbeddedServer

        server = EmbeddedServer(Settings(home=REPO, var_dir=Path(tempfile.mkdtemp(prefix="bench_dbt_", dir=REPO / "var"))))
        server.start()
        admin = server.url("postgres")
    name = "bench_dbt_" + uuid.uuid4().hex[:8]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = admin.rsplit("/", 1)[0] + "/" + name
    try:
        bootstrap(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(STATIC_SQL.format(spd=spd))
        t_load = load_days(url, 0, n, spd)
        run_dbt(["seed"], url)
        t0 = time.perf_counter()
        run_dbt(["run", "--exclude", "tag:after_alerts"], url, vars={"run_date": str(START + timedelta(days=n - 1))})
        t_full = time.perf_counter() - t0
        print(f"history of {n} days loaded in {t_load:.1f}s, first full build {t_full:.1f}s")
        short = measure_day(url, n, spd)
        print(f"after {n} days: {short}")
        t_load = load_days(url, n + 1, 10 * n, spd)
        run_dbt(["run", "--exclude", "tag:after_alerts"], url, vars={"run_date": str(START + timedelta(days=10 * n - 1))})
        print(f"history extended to {10 * n} days in {t_load:.1f}s")
        long = measure_day(url, 10 * n, spd)
        print(f"after {10 * n} days: {long}")
        growth_facts = long["incremental_facts_s"] / short["incremental_facts_s"] - 1
        growth_all = long["whole_run_s"] / short["whole_run_s"] - 1
        peak = peak_rss_mb()
        print(f"incremental facts: {short['incremental_facts_s']}s -> {long['incremental_facts_s']}s "
              f"({growth_facts:+.0%}); whole run: {short['whole_run_s']}s -> {long['whole_run_s']}s ({growth_all:+.0%}); "
              f"peak RSS of this process (dbt in-process) {peak:.0f} MB")
        print(json.dumps({"bench": "dbt_incremental", "days_short": n, "days_long": 10 * n, "sessions_per_day": spd,
                          "short": short, "long": long,
                          "incremental_facts_growth": round(growth_facts, 3), "whole_run_growth": round(growth_all, 3),
                          "goal_growth_max": 0.2, "incremental_facts_ok": growth_facts <= 0.2,
                          "peak_rss_mb": round(peak)}))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        if server is not None:
            server.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
