"""Benchmark of the source simulator: seconds and peak memory to generate one city-scale working day.

    python bench/bench_generate.py [--quick] [--scale S] [--day YYYY-MM-DD] [--no-db]

Generates the delivery of one working day (default 2024-03-12, a Tuesday; scale 1.0 = the city:
~1,500 held sessions, ~100,000 attendance rows, ~1.5 million video events) into a temporary landing
folder and a scratch training database (COPY into PostgreSQL), without back-filling earlier days:
the figure is what one day of the city costs. ``--quick`` uses scale 0.1. Peak memory while
``generate`` runs (harness.PeakMemory): this process's RSS, and the PSS of it and the PostgreSQL
server together. Uses SUPERVISION_TEST_PG_URL (any owner URL) for the scratch database if set,
else starts an embedded server in a temporary folder.

Prints ``generate_city_day  seconds=..  peak_rss_mib=..  sessions=.. attendance=.. video_events=..``
and, last, one JSON line ``{"bench": "generate_city_day", ...}``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from contextlib import ExitStack
from datetime import date

from harness import PeakMemory, emit, scratch_database, scratch_dir, scratch_server


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="scale 0.1 instead of 1.0")
    ap.add_argument("--scale", type=float, default=None)
    ap.add_argument("--day", type=date.fromisoformat, default=date(2024, 3, 12))
    ap.add_argument("--no-db", action="store_true", help="files only (no training database)")
    args = ap.parse_args()
    scale = args.scale or (0.1 if args.quick else 1.0)
    import psycopg

    from supervision.simulator import generate

    tmp = scratch_dir("bench_generate_")
    try:
        with ExitStack() as stack:
            url = server = None
            if not args.no_db:
                server = stack.enter_context(scratch_server(os.environ.get("SUPERVISION_TEST_PG_URL")))
                url = stack.enter_context(scratch_database(server, "bench_"))
            t0 = time.monotonic()
            with PeakMemory(os.getpid(), server=server) as memory:
                summary = generate(args.day, args.day, scale=scale, seed=2024, training_db_url=url,
                                   landing=tmp / "landing", labels_dir=tmp / "labels", backfill=False,
                                   write_db=not args.no_db)
            seconds = time.monotonic() - t0
            held = 0
            if url:
                with psycopg.connect(url) as conn:
                    held = conn.execute("select count(*) from sessions where status = 'held' and starts_at::date = %s",
                                        (args.day,)).fetchone()[0]
        size = sum(f.stat().st_size for f in (tmp / "landing").rglob("*") if f.is_file()) / 2**20
        results_csv = tmp / "landing" / "assessment" / f"date={args.day.isoformat()}" / "exam_results.csv"
        exam_results = 0
        if results_csv.exists():
            raw = results_csv.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030")
            exam_results = sum(1 for line in text.splitlines()[1:] if line.strip())
        rows = summary.get("rows", {})
        mem = memory.figures()
        print(f"generate_city_day  seconds={seconds:.1f}  peak_rss_mib={mem['peak_rss_mib']}  "
              f"peak_pss_mib={mem['peak_pss_mib']} (with PostgreSQL)  sessions={held}  "
              f"attendance={summary.get('attendance')}  video_events={summary.get('video_events')}  "
              f"exam_results={exam_results}  scale={scale}  landing_mib={size:.0f}  db_rows={sum(rows.values())}")
        emit("generate_city_day", scale=scale, seconds=round(seconds, 1), **mem, held_sessions=held,
             attendance=summary.get("attendance"), video_events=summary.get("video_events"),
             video_files=summary.get("video_files"), exam_results=exam_results, landing_mib=round(size),
             db_rows=sum(rows.values()))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
