"""How long Great Expectations takes for a city-scale day, and how much memory.

Synthesises one city-scale day (plus a week of history for the volume gates) directly in a
temporary PostgreSQL database, server-side (INSERT ... SELECT from generate_series: faster than
COPY from Python), then times ``run_gates`` and ``run_record_flags`` as the DAG calls them: the
first flags run is full (every record of the history); then the day's rows are stamped as reloaded
and a second, incremental, run re-checks them and what depends on them (same findings, checked).

    .venv/bin/python bench/bench_gx.py            # ~100k attendance rows/day, 1.5 M video events
    .venv/bin/python bench/bench_gx.py --quick    # 5% of that, for a smoke run
    .venv/bin/python bench/bench_gx.py --pg-url postgresql://owner:pw@host:port/postgres

Without --pg-url an embedded server is started in a temporary folder and destroyed afterwards.
Prints one human line, then a final JSON line {"bench": "gx_city_day", ...}.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

from harness import PeakMemory, emit, rss_pss, scratch_database, scratch_server

DAY = dt.date(2024, 3, 8)
DISTRICTS = ["310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113",
             "310114", "310115", "310116", "310117", "310118", "310120", "310151"]


def synthesise(url: str, scale: float, history_days: int, video_history_share: float) -> dict[str, int]:
    """Fill the raw layer: a city-scale DAY and `history_days` days before it."""
    import psycopg

    n_att = int(100_000 * scale)
    n_sessions = max(int(1_500 * scale), 20)
    n_video = int(1_500_000 * scale)
    n_results = max(int(3_000 * scale), 50)
    n_classes = max(int(3_000 * scale), 20)
    n_trainees = max(int(60_000 * scale), 200)
    districts = "array[" + ",".join(f"'{d}'" for d in DISTRICTS) + "]"
    d0 = DAY - dt.timedelta(days=history_days)
    days = history_days + 1
    sql = f"""
    set local synchronous_commit = off;
    insert into raw_training.occupations
      select '4-10-01-0' || g, 'occupation ' || g, 'life_service', g % 2 = 0, '2024-01-01+08' from generate_series(1, 9) g;
    insert into raw_training.institutions
      select 'INS' || g, 'institution ' || g, '91310000MA' || lpad(g::text, 8, '0'), 'private',
             ({districts})[1 + g % 16], '2020-01-01', '2030-12-31', '2024-01-01+08'
      from generate_series(1, 300) g;
    insert into raw_training.sites
      select 'SITE' || g, 'INS' || (1 + g % 300), ({districts})[1 + (1 + g % 300) % 16], 'addr', g % 50 <> 0,
             '2024-01-01+08' from generate_series(1, 600) g;
    insert into raw_training.cameras
      select 'CAM' || g, 'SITE' || (1 + g % 600), '2023-01-01', '2024-01-01+08' from generate_series(1, 1200) g;
    insert into raw_training.classes
      select 'C' || g, 'INS' || (1 + g % 300), '4-10-01-0' || (1 + g % 9), 1 + g % 5, 'standard', g % 10 <> 0,
             80, date '{DAY}' - (g % 60), date '{DAY}' + 60, 'running', timestamptz '{DAY} 08:00+08' - (g % 9) * interval '1 day'
      from generate_series(1, {n_classes}) g;
    insert into raw_training.trainees
      select 'T' || g, md5(g::text), '310104********' || lpad((g % 10000)::text, 4, '0'), g % 500 <> 0,
             case when g % 500 = 0 then null else date '1990-01-01' + (g % 9000) end, g % 97 <> 0,
             case when g % 2 = 0 then 'M' else 'F' end, date '{DAY}' - (14 * 365 + (g % (56 * 365))), true,
             timestamptz '{DAY} 08:00+08' - (g % 9) * interval '1 day'
      from generate_series(1, {n_trainees}) g;
    insert into raw_training.enrollments
      select 'E' || g, 'C' || (1 + g % {n_classes}), 'T' || g, timestamptz '{DAY} 08:00+08' - (g % 90) * interval '1 day',
             'active', null, timestamptz '{DAY} 08:00+08' - (g % 9) * interval '1 day'
      from generate_series(1, {n_trainees}) g;
    insert into raw_training.sessions
      select 'S' || d || '_' || g, 'C' || (1 + g % {n_classes}), 'SITE' || (1 + g % 600),
             (date '{d0}' + d) + time '08:00' + (g % 12) * interval '1 hour' + case when g % 400 = 0 then interval '-3 hour' else interval '0' end,
             (date '{d0}' + d) + time '11:00' + (g % 12) * interval '1 hour',
             case when g % 10 = 0 then 'online' else 'onsite' end,
             case when g % 50 = 0 then 'cancelled' else 'held' end,
             (date '{d0}' + d) + time '20:00'
      from generate_series(0, {days - 1}) d, generate_series(1, {n_sessions}) g;
    insert into raw_training.attendance
      select d * 10000000 + g, 'S' || d || '_' || (1 + g % {n_sessions}), 'T' || (1 + g % {n_trainees}),
             case when g % 2 = 0 then 'check_in' else 'check_out' end,
             case when g % 10 = 0 then 'card' when g % 33 = 0 then 'manual' else 'face' end, 'DEV' || (g % 3000),
             (date '{d0}' + d) + time '08:00' + ((1 + g % {n_sessions}) % 12) * interval '1 hour'
               + case when g % 2 = 0 then interval '-10 min' else interval '3 hour 5 min' end
               + case when g % 1000 = 0 then interval '-50 min' else interval '0' end,
             case when g % 10 = 0 or g % 33 = 0 then null else 0.6 + (g % 40) / 100.0 end,
             (date '{d0}' + d) + time '21:00'
      from generate_series(0, {days - 1}) d, generate_series(1, {n_att}) g;
    insert into raw_video.events
      select gen_random_uuid(), 'CAM' || (1 + g % 1200),
             (date '{d0}' + d) + (g % 86400) * interval '1 second',
             (array['status', 'headcount', 'face'])[1 + g % 3],
             case when g % 3 = 0 then 'online' end, case when g % 3 = 1 then g % 40 end,
             case when g % 3 = 2 then 'T' || (1 + g % {n_trainees}) end, case when g % 3 = 2 then 0.5 + (g % 50) / 100.0 end,
             date '{d0}' + d, 1, g
      from generate_series(0, {days - 1}) d,
           lateral generate_series(1, case when d = {days - 1} then {n_video} else {int(n_video * video_history_share)} end) g;
    insert into raw_assessment.evaluation_orgs
      select 'ORG' || g, 'org ' || g, '社會評價組織', ({districts})[1 + g % 16], array['4-10-01-05'], '2020-01-01', '2030-01-01',
             date '{DAY}', 1, g from generate_series(1, 50) g;
    insert into raw_assessment.exam_sessions
      select 'X' || g, 'ORG' || (1 + g % 50), '4-10-01-05', 1 + g % 5, date '{DAY}' + time '09:00', date '{DAY}' + time '11:00',
             array['A' || g], 40, date '{DAY}', 1, g from generate_series(1, {max(n_results // 30, 2)}) g;
    insert into raw_assessment.exam_results
      select 'R' || g, 'X' || (1 + g % {max(n_results // 30, 2)}), md5('r' || g), '310104********0000', g % 300 <> 0,
             date '1990-01-01' + (g % 9000), g % 200 <> 0,
             case when g % 150 = 0 then null else 40 + g % 61 end, 55 + g % 46,
             case when (40 + g % 61) >= 60 and (55 + g % 46) >= 60 then '合格' else '不合格' end,
             date '{DAY}' + time '12:00', date '{DAY}', 1, g
      from generate_series(1, {n_results}) g;
    insert into raw_assessment.certificates
      select 'CERT' || g, 'R' || g, md5('r' || g), '310104********0000', '4-10-01-05', 5, date '{DAY}', 'ORG' || (1 + g % 50),
             date '{DAY}', 1, g from generate_series(1, {n_results * 2 // 3}) g;
    -- every row loaded on the day it changed (what the daily loads leave), not now
    update raw_training.classes set _loaded_at = updated_at;
    update raw_training.sessions set _loaded_at = updated_at;
    update raw_training.trainees set _loaded_at = updated_at;
    update raw_training.enrollments set _loaded_at = updated_at;
    update raw_training.attendance set _loaded_at = updated_at;
    update raw_training.institutions set _loaded_at = updated_at;
    update raw_training.sites set _loaded_at = updated_at;
    update raw_assessment.exam_sessions set _loaded_at = delivery_date;
    update raw_assessment.exam_results set _loaded_at = delivery_date;
    update raw_assessment.evaluation_orgs set _loaded_at = delivery_date;
    -- the training pull ran after the day (the freshness gate reads the loader's audit)
    insert into ops.load_audit (run_id, source, object, started_at, finished_at, status)
      select 'bench', 'training', t, now(), now(), 'ok' from unnest(array['occupations', 'institutions',
             'institution_occupations', 'sites', 'cameras', 'classes', 'trainees', 'sessions', 'enrollments',
             'attendance', 'subsidy_claims']) t;
    """
    with psycopg.connect(url) as conn:
        conn.execute(sql)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze")
        counts = {}
        for table in ("raw_training.sessions", "raw_training.attendance", "raw_training.trainees",
                      "raw_video.events", "raw_assessment.exam_results"):
            counts[table] = conn.execute(f"select count(*) from {table}").fetchone()[0]
        counts["day_attendance"] = n_att
        counts["day_video_events"] = n_video
        counts["day_sessions"] = n_sessions
    return counts


def reload_day(url: str) -> dict[str, int]:
    """Stamp the rows of DAY as if the loaders had just (re)loaded them (``_loaded_at = now()``): what
    an incremental flags run sees after a day's load."""
    import psycopg

    day = f"date '{DAY}'"
    local = "at time zone 'Asia/Shanghai')::date"
    touched = {}
    with psycopg.connect(url) as conn:
        for table, where in (("raw_training.attendance", f"(updated_at {local} = {day}"),
                             ("raw_training.sessions", f"(updated_at {local} = {day}"),
                             ("raw_training.trainees", f"(updated_at {local} = {day}"),
                             ("raw_training.enrollments", f"(updated_at {local} = {day}"),
                             ("raw_assessment.exam_results", f"delivery_date = {day}")):
            touched[table] = conn.execute(f"update {table} set _loaded_at = now() where {where}").rowcount
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze")
    return touched


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5%% of city scale")
    ap.add_argument("--scale", type=float, default=None, help="share of city scale (default 1, or 0.05 with --quick)")
    ap.add_argument("--history-days", type=int, default=7, help="days before the benchmark day (volume gates)")
    ap.add_argument("--video-history-share", type=float, default=0.2,
                    help="video events of each earlier day, as a share of the day's (keeps set-up short)")
    ap.add_argument("--pg-url", default=os.environ.get("SUPERVISION_BENCH_PG_URL"),
                    help="owner URL of a server to create the temporary database on")
    args = ap.parse_args(argv)
    scale = args.scale if args.scale is not None else (0.05 if args.quick else 1.0)

    with scratch_server(args.pg_url, "bench_gx_") as server, scratch_database(server, "bench_gx_") as url, \
            tempfile.TemporaryDirectory(prefix="bench_gx_docs_") as gx_tmp:
        from supervision.warehouse import bootstrap

        bootstrap(url)
        t0 = time.monotonic()
        rows = synthesise(url, scale, args.history_days, args.video_history_share)
        setup_s = time.monotonic() - t0

        rss_start = rss_pss(os.getpid())[0]
        t0 = time.monotonic()
        import great_expectations  # noqa: F401  (measured apart: paid once per task process)

        import_s = time.monotonic() - t0
        from supervision.quality import RULE_DEFAULTS, run_gates, run_record_flags

        gx_dir = Path(gx_tmp)
        with PeakMemory(os.getpid(), server=server, interval=0.1) as gates_mem:
            t0 = time.monotonic()
            gates = run_gates(url, "bench", DAY, gx_dir=gx_dir, raise_on_failure=False)
            gates_s = time.monotonic() - t0
        with PeakMemory(os.getpid(), server=server, interval=0.1) as flags_mem:
            t0 = time.monotonic()
            findings = run_record_flags(url, "bench", thresholds=dict(RULE_DEFAULTS), gx_dir=gx_dir)
            flags_s = time.monotonic() - t0
        # the next day's run: only the day's (re)loaded rows and what depends on them are re-checked
        touched = reload_day(url)
        with PeakMemory(os.getpid(), server=server, interval=0.1) as incr_mem:
            t0 = time.monotonic()
            incremental = run_record_flags(url, "bench-next", thresholds=dict(RULE_DEFAULTS), gx_dir=gx_dir)
            flags_incr_s = time.monotonic() - t0
        if dict(incremental) != dict(findings):
            raise SystemExit(f"incremental flags differ from the full run: {dict(incremental)} != {dict(findings)}")

    mb = 1024 * 1024
    out = {
        "scale": scale,
        "rows": rows,
        "setup_s": round(setup_s, 2),
        "gx_import_s": round(import_s, 2),
        "gates_s": round(gates_s, 2),
        "flags_s": round(flags_s, 2),
        "gx_total_s": round(import_s + gates_s + flags_s, 2),
        "flags_full_checked": sum(c["checked"] for c in findings.checked.values()),
        "flags_incremental_s": round(flags_incr_s, 2),
        "flags_incremental_checked": sum(c["checked"] for c in incremental.checked.values()),
        "rows_reloaded": sum(touched.values()),
        "gates_validations": len(gates.outcomes),
        "gates_success": gates.success,
        "gates_failures": gates.failures,
        "findings": dict(findings),
        "rss_before_gx_mib": round(rss_start / mb, 1),
        **gates_mem.figures("gates_"), **flags_mem.figures("flags_"), **incr_mem.figures("flags_incremental_"),
        "peak_pss_mib": max(m.figures()["peak_pss_mib"] for m in (gates_mem, flags_mem, incr_mem)),
        "cpus": os.cpu_count(),
    }
    print(f"GX city day (scale {scale:g}: {rows['day_attendance']:,} attendance, {rows['day_sessions']:,} sessions, "
          f"{rows['day_video_events']:,} video events): import {import_s:.1f}s + gates {gates_s:.1f}s "
          f"({len(gates.outcomes)} validations, {'pass' if gates.success else 'FAIL'}) + flags {flags_s:.1f}s "
          f"({sum(findings.values()):,} findings) = {out['gx_total_s']:.1f}s; peak RSS "
          f"{max(gates_mem.roots_rss, flags_mem.roots_rss) / mb:.0f} MiB, with PostgreSQL PSS "
          f"{out['peak_pss_mib']} MiB (set-up {setup_s:.1f}s)")
    print(f"record flags: full run (first) {flags_s:.1f}s over {out['flags_full_checked']:,} records; the next "
          f"day's incremental run {flags_incr_s:.1f}s over {out['flags_incremental_checked']:,} records "
          f"({out['rows_reloaded']:,} rows reloaded; same findings)")
    emit("gx_city_day", **out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
