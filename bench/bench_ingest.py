"""Benchmark of the video loader against the machine's COPY limit and pandas ``to_sql``.

    python bench/bench_ingest.py [--quick] [--events N] [--files F] [--workers W] [--mapping]

Generates N video events (default 2,000,000; --quick 200,000) as gzip JSON Lines files in a temp
landing folder (realistic shape: status/headcount/face, ~2% re-delivered event ids, a few bad
lines), then measures on the same data, each figure in its own subprocess, whose peak memory is
sampled from here (harness.PeakMemory: RSS of the subprocess and its workers; PSS of them and
PostgreSQL together):

(a) end to end: ``load_video``'s three steps (files → warehouse: read, checksum, parse, validate,
    COPY, dedup, indexes, attach, quarantine, audit, manifest), events received per second, with
    the native fast path when it is built; (a') then the same files again with the Python parser;
(b) raw COPY: the same rows, already formatted as COPY text in memory, into an empty UNLOGGED
    table without indexes: the server's own limit;
(c) pandas ``DataFrame.to_sql`` (method=None) of a sample of the same rows;
(d) memory flatness: peak memory loading one file of k events and one of 2k events;
(e) flat with history: the same day's files (``--day-events``, default N/2, at most 300,000) loaded
    into an empty warehouse (day 1) and into one that already holds ``--history-days`` days of
    that size (day N; history made in bulk, partition by partition); ``--legacy`` repeats both
    with the unpartitioned table of the first bootstrap (primary key event_id + 2 indexes), to
    show what partitioning changes.

Every figure is printed with the load average at the time (other work shares the machine).

``--mapping`` also compares one process per file (what one mapped Airflow task per file costs at
least) with one batch over 2 workers. Prints a line per figure and a final JSON line
``{"bench": "ingest_video", ...}``. Uses SUPERVISION_WAREHOUSE_URL if set (a scratch database is
created beside it), else starts an embedded server in a temp folder.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from harness import PeakMemory, Server, emit, scratch_database, scratch_dir, scratch_server

TZ = timezone(timedelta(hours=8))
SERVER: Server | None = None     # the scratch server, whose processes each phase's memory includes


# --- data ---------------------------------------------------------------------------------------

def _loadavg() -> float:
    return os.getloadavg()[0]


def generate(landing: Path, n_events: int, n_files: int, seed: int = 7, folder: str = "video",
             days: int = 3) -> dict:
    """n_events events over n_files files in ``days`` date folders; ~2% of each file repeats ids of
    the previous file of the same folder (a re-delivery: the contract puts an event's deliveries in
    its own date= folder), 1 line in 20,000 is bad."""
    import gzip

    import msgspec

    enc = msgspec.json.Encoder()
    rnd = random.Random(seed)
    per = n_events // n_files
    base = datetime(2024, 3, 1, 8, 0, tzinfo=TZ)
    previous_of: dict[int, list[bytes]] = {}
    bad = dup = 0
    for f in range(n_files):
        day = 1 + f % days
        previous = previous_of.get(day, [])
        d = landing / folder / f"date=2024-03-0{day}"
        d.mkdir(parents=True, exist_ok=True)
        lines: list[bytes] = []
        n_dup = per // 50 if previous else 0
        lines += rnd.sample(previous, min(n_dup, len(previous)))
        for line in lines:  # a re-delivered bad line is quarantined again, not a duplicate
            if line.startswith(b'{"event_id": "broken'):
                bad += 1
            else:
                dup += 1
        t0 = base + timedelta(days=day - 1)
        for i in range(per - len(lines)):
            if rnd.random() < 1 / 20000:
                lines.append(b'{"event_id": "broken')
                bad += 1
                continue
            r = rnd.random()
            e = {"event_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                 "camera_id": f"CAM{rnd.randint(1, 4000):05d}",
                 "ts": (t0 + timedelta(milliseconds=i * 37)).isoformat(timespec="seconds")}
            if r < 0.35:
                e.update(type="status", state="online" if r < 0.34 else "offline")
            elif r < 0.85:
                e.update(type="headcount", count=rnd.randint(0, 45))
            else:
                e.update(type="face", trainee_id=None if r > 0.97 else f"T{rnd.randint(1, 200000):07d}",
                         score=round(rnd.random(), 3))
            lines.append(enc.encode(e))
        previous_of[day] = lines[-2000:]
        with gzip.open(d / f"cam-export-{f:04d}.jsonl.gz", "wb", compresslevel=6) as out:
            out.write(b"\n".join(lines) + b"\n")
    return {"events": per * n_files, "files": n_files, "redelivered": dup, "bad_lines": bad,
            "bytes": sum(p.stat().st_size for p in landing.rglob("*.gz"))}


# --- phases (each in its own process) ---------------------------------------------------------

def phase_e2e(landing: Path, url: str, workers: int) -> dict:
    """``load_video``'s three steps, each timed: plan (pending files, load tables), load (the
    workers: read, parse, COPY), attach (dedup, indexes, partitions, manifest, audit)."""
    from supervision.ingest import video
    from supervision.ingest.video import finish_load, load_video_files, plan_load, summarise

    t = time.perf_counter()
    batches = plan_load(landing, url, "bench", workers=workers)
    t_plan = time.perf_counter()
    results = load_video_files(landing, url, "bench", [p for b in batches for p in b], workers)["results"]
    t_load = time.perf_counter()
    attached = finish_load(url, "bench")
    s = summarise(results, attached)
    el = time.perf_counter() - t
    steps: dict[str, float] = {}  # the attach's steps, summed over the days (days run in parallel)
    for day in attached:
        for k, v in (day.get("seconds") or {}).items():
            steps[k] = round(steps.get(k, 0.0) + v, 3)
    return {"seconds": el, "plan_s": t_plan - t, "load_s": t_load - t_plan, "attach_s": t + el - t_load,
            "attach_steps_s": steps,
            "received": s["received"], "loaded": s["loaded"], "duplicates": s["duplicates"],
            "quarantined": s["quarantined"], "rate": s["received"] / el, "files": s["files"],
            "parser": "native" if video.is_loaded() else "python"}


def _memory(e2e: dict) -> str:
    """Peak memory of a load: the native parser's workers are threads of the loading process, the
    Python parser's are subprocesses (their RSS counts pages shared with the parent again: PSS is
    the fair total)."""
    who = "one process; its workers are threads" if e2e["parser"] == "native" else "parent and worker processes"
    return (f"RSS {e2e['peak_rss_mib']} MiB ({who}), PSS with PostgreSQL {e2e['peak_pss_mib']} MiB")


def phase_history(url: str, days: int, per_day: int, legacy: bool) -> dict:
    """Fill raw_video.events with ``days`` days of ``per_day`` generated events (2023-01-01 on), in
    bulk: partitioned, each day is built as a table and attached (its indexes built once);
    legacy (unpartitioned), the rows go in with the indexes dropped and rebuilt."""
    import psycopg

    from supervision.ingest.video import partition_name

    cols = "event_id, camera_id, ts, type, state, count, trainee_id, score, local_date, file_id, line_no"

    def rows(day: str) -> str:
        return (f"select gen_random_uuid(), 'CAM' || lpad((1 + i % 4000)::text, 5, '0'),"
                f" timestamptz '{day} 08:00+08' + i * interval '37 ms', 'headcount', null, i % 45, null, null,"
                f" date '{day}', -1, i from generate_series(1, {per_day}) i")

    t = time.perf_counter()
    from datetime import date as _date
    with psycopg.connect(url, autocommit=True) as conn:
        if legacy:
            conn.execute("drop index raw_video.events_camera_ts_idx, raw_video.events_local_date_idx")
            conn.execute("alter table raw_video.events drop constraint events_pkey")
        for i in range(days):
            d = _date(2023, 1, 1) + timedelta(days=i)
            if legacy:
                conn.execute(f"insert into raw_video.events ({cols}) {rows(d.isoformat())}")
                continue
            part = partition_name(d)
            conn.execute(f"create table {part} (like raw_video.events including defaults including constraints)")
            conn.execute(f"alter table {part} add constraint bounds check (local_date = date '{d.isoformat()}')")
            conn.execute(f"insert into {part} ({cols}) {rows(d.isoformat())}")
            conn.execute(f"alter table raw_video.events attach partition {part}"
                         f" for values from ('{d.isoformat()}') to ('{(d + timedelta(days=1)).isoformat()}')")
            conn.execute(f"alter table {part} drop constraint bounds")
        if legacy:
            conn.execute("alter table raw_video.events add primary key (event_id)")
            conn.execute("create index events_camera_ts_idx on raw_video.events (camera_id, ts)")
            conn.execute("create index events_local_date_idx on raw_video.events (local_date)")
        conn.execute("vacuum analyze raw_video.events")
        n = conn.execute("select count(*) from raw_video.events").fetchone()[0]
    return {"seconds": time.perf_counter() - t, "rows": n}


def phase_copy(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        data = bytearray()
        with conn.cursor().copy("copy (select event_id, camera_id, ts, type, state, count, trainee_id, score,"
                                " local_date, file_id, line_no from raw_video.events) to stdout") as cp:
            for block in cp:
                data += block
        n = conn.execute("select count(*) from raw_video.events").fetchone()[0]
        conn.execute("drop table if exists bench_copy")
        conn.execute("create unlogged table bench_copy (event_id uuid, camera_id text, ts timestamptz, type text,"
                     " state text, count integer, trainee_id text, score numeric, local_date date,"
                     " file_id bigint, line_no integer)")
        conn.commit()
        view = memoryview(data)
        t = time.perf_counter()
        with conn.cursor().copy("copy bench_copy from stdin") as cp:
            for i in range(0, len(view), 1 << 20):
                cp.write(view[i:i + (1 << 20)])
        conn.commit()
        el = time.perf_counter() - t
        conn.execute("drop table bench_copy")
        conn.commit()
    return {"seconds": el, "rows": n, "rate": n / el}


def phase_to_sql(url: str, sample: int) -> dict:
    import pandas as pd
    import sqlalchemy as sa

    from supervision.config import sqlalchemy_url

    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        df = pd.read_sql(sa.text("select event_id::text as event_id, camera_id, ts, type, state, count, trainee_id,"
                                 " score::float8 as score, local_date, file_id, line_no from raw_video.events"
                                 f" limit {int(sample)}"), conn)
    t = time.perf_counter()
    df.to_sql("bench_to_sql", engine, if_exists="replace", index=False, method=None, chunksize=10_000)
    el = time.perf_counter() - t
    with engine.begin() as conn:
        conn.execute(sa.text("drop table bench_to_sql"))
    engine.dispose()
    return {"seconds": el, "rows": len(df), "rate": len(df) / el}


def phase_one_file(landing: Path, url: str, path: str) -> dict:
    from supervision.ingest.video import load_video_file

    t = time.perf_counter()
    r = load_video_file(landing, url, "bench-file", path)
    return {"seconds": time.perf_counter() - t, "received": r["received"]}


def _sub(*args: str, env: dict | None = None) -> dict:
    """Run one phase in its own process, its peak memory sampled from here; adds the load average
    at its end."""
    with PeakMemory(server=SERVER, interval=0.1) as memory:
        proc = subprocess.Popen([sys.executable, __file__, "--phase", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=None if env is None else {**os.environ, **env})
        memory.add_root(proc.pid)
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"phase {args[0]} failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1]) | memory.figures() | {"loadavg": _loadavg()}


# --- set-up -----------------------------------------------------------------------------------

def _reset(server: Server, url: str, legacy: bool = False) -> None:
    """The scratch database dropped and made again (``legacy``: with the unpartitioned events table
    of the first bootstrap)."""
    import psycopg

    from supervision.warehouse import bootstrap

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    if legacy:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(LEGACY_DDL)
    bootstrap(url)


LEGACY_DDL = """
create schema if not exists raw_video;
create table raw_video.events (
    event_id uuid primary key, camera_id text not null, ts timestamptz not null,
    type text not null check (type in ('status', 'headcount', 'face')),
    state text check (state in ('online', 'offline', 'occluded', 'tampered')), count integer check (count >= 0),
    trainee_id text, score numeric check (score between 0 and 1), local_date date not null,
    file_id bigint not null, line_no integer not null, _loaded_at timestamptz not null default now());
create index events_camera_ts_idx on raw_video.events (camera_id, ts);
create index events_local_date_idx on raw_video.events (local_date);
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="200,000 events")
    ap.add_argument("--events", type=int, help="number of events (default 2,000,000)")
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sample", type=int, help="rows for to_sql (default 200,000; --quick 50,000)")
    ap.add_argument("--mapping", action="store_true", help="also compare one process per file with batching")
    ap.add_argument("--day-events", type=int, help="events of the day loaded on day 1 and day N (default N/2, at most 300,000)")
    ap.add_argument("--history-days", type=int, help="days already loaded before day N (default 20; --quick 10)")
    ap.add_argument("--legacy", action="store_true", help="also day 1 / day N on the unpartitioned table")
    ap.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.phase:  # a measurement subprocess
        name, *rest = args.phase
        out = {"e2e": lambda: phase_e2e(Path(rest[0]), rest[1], int(rest[2])),
               "copy": lambda: phase_copy(rest[0]),
               "to_sql": lambda: phase_to_sql(rest[0], int(rest[1])),
               "one_file": lambda: phase_one_file(Path(rest[0]), rest[1], rest[2]),
               "history": lambda: phase_history(rest[0], int(rest[1]), int(rest[2]), rest[3] == "legacy")}[name]()
        print(json.dumps(out))
        return 0

    n = args.events or (200_000 if args.quick else 2_000_000)
    sample = args.sample or (50_000 if args.quick else 200_000)
    global SERVER
    tmp = scratch_dir("bench_ingest_")
    result: dict = {"events": n, "files": args.files, "workers": args.workers,
                    "cpus": os.cpu_count(), "load_avg_before": os.getloadavg()[0]}
    try:
        with scratch_server(os.environ.get("SUPERVISION_WAREHOUSE_URL"), "bench_ingest_pg_") as server, \
                scratch_database(server, "bench_") as url:
            from supervision.warehouse import bootstrap

            SERVER = server
            bootstrap(url)

            def reset(legacy: bool = False) -> None:
                _reset(server, url, legacy)

            landing = tmp / "landing"
            t = time.perf_counter()
            gen = generate(landing, n, args.files)
            print(f"generated {gen['events']:,} events in {gen['files']} files ({gen['bytes'] / 2**20:.0f} MiB gz,"
                  f" {gen['redelivered']:,} re-delivered, {gen['bad_lines']} bad lines) in {time.perf_counter() - t:.1f}s",
                  flush=True)
            result["generated"] = gen

            e2e = _sub("e2e", str(landing), url, str(args.workers))
            print(f"(a) end to end load_video: {e2e['rate']:,.0f} events/s ({e2e['received']:,} in {e2e['seconds']:.1f}s:"
                  f" plan {e2e['plan_s']:.1f}s, load {e2e['load_s']:.1f}s, attach {e2e['attach_s']:.1f}s;"
                  f" loaded {e2e['loaded']:,}, duplicates {e2e['duplicates']:,}, quarantined {e2e['quarantined']});"
                  f" peak {_memory(e2e)}; load {e2e['loadavg']:.1f}", flush=True)
            assert e2e["duplicates"] == gen["redelivered"], "duplicates must be counted exactly"
            print(f"    parser: {e2e['parser']}; attach steps summed over the days: "
                  + ", ".join(f"{k} {v:.2f}s" for k, v in e2e["attach_steps_s"].items() if v >= 0.01), flush=True)
            if e2e["parser"] == "native":  # the same files through the Python parser (no Rust toolchain)
                reset()
                py = _sub("e2e", str(landing), url, str(args.workers), env={"SUPERVISION_VIDEO_NATIVE": "0"})
                assert (py["loaded"], py["duplicates"], py["quarantined"]) == (e2e["loaded"], e2e["duplicates"], e2e["quarantined"])
                print(f"(a') the same with the Python parser: {py['rate']:,.0f} events/s ({py['seconds']:.1f}s: load"
                      f" {py['load_s']:.1f}s, attach {py['attach_s']:.1f}s); peak {_memory(py)};"
                      f" load {py['loadavg']:.1f}", flush=True)
                result["e2e_python_parser"] = py
            cp = _sub("copy", url)
            print(f"(b) raw COPY into an unlogged table without indexes: {cp['rate']:,.0f} rows/s"
                  f" ({cp['rows']:,} in {cp['seconds']:.1f}s); peak RSS {cp['peak_rss_mib']} MiB (holds the data);"
                  f" load {cp['loadavg']:.1f}", flush=True)
            ts = _sub("to_sql", url, str(sample))
            print(f"(c) pandas to_sql (method=None): {ts['rate']:,.0f} rows/s ({ts['rows']:,} in {ts['seconds']:.1f}s);"
                  f" peak RSS {ts['peak_rss_mib']} MiB; load {ts['loadavg']:.1f}", flush=True)
            result.update(e2e=e2e, raw_copy=cp, to_sql=ts, peak_rss_mib=e2e["peak_rss_mib"], peak_pss_mib=e2e["peak_pss_mib"],
                          ratio_vs_copy=e2e["rate"] / cp["rate"], ratio_vs_to_sql=e2e["rate"] / ts["rate"])
            print(f"    end to end = {result['ratio_vs_copy']:.2f} x raw COPY (goal >= 0.5),"
                  f" {result['ratio_vs_to_sql']:.1f} x to_sql (goal >= 5)", flush=True)

            # (d) memory flat as files grow: one file of k events, one of 2k events, each in its own process.
            k = max(n // args.files, 10_000)
            mem = {}
            for label, size in (("k", k), ("2k", 2 * k)):
                reset()
                land = tmp / f"mem_{label}"
                generate(land, size, 1, seed=11)
                path = next(land.rglob("*.gz")).relative_to(land).as_posix()
                from supervision.ingest.video import plan_load

                plan_load(land, url)  # a new day: the file goes the bulk way (into the day's load table)
                mem[label] = _sub("one_file", str(land), url, path) | {"events": size}
            print(f"(d) peak memory loading one file: RSS {mem['k']['peak_rss_mib']} MiB for {k:,} events,"
                  f" {mem['2k']['peak_rss_mib']} MiB for {2 * k:,}; load {mem['2k']['loadavg']:.1f}", flush=True)
            result["memory_per_file"] = mem

            # (e) a day's load on day 1 and on day N (after many days of history)
            per_day = args.day_events or min(max(n // 2, 20_000), 300_000)
            hist_days = args.history_days or (10 if args.quick else 20)
            day_land = tmp / "day"
            generate(day_land, per_day, 8, seed=13, days=1)
            flat = {}
            for mode in ("partitioned", "legacy") if args.legacy else ("partitioned",):
                legacy = mode == "legacy"
                reset(legacy)
                d1 = _sub("e2e", str(day_land), url, str(args.workers))
                reset(legacy)
                hist = _sub("history", url, str(hist_days), str(per_day), mode)
                dn = _sub("e2e", str(day_land), url, str(args.workers))
                flat[mode] = {"day_1": d1, "history": hist, "day_n": dn, "day_n_over_day_1": dn["seconds"] / d1["seconds"]}
                print(f"(e) {mode}: a day of {d1['received']:,} events: day 1 {d1['seconds']:.2f}s ({d1['rate']:,.0f}/s,"
                      f" load {d1['loadavg']:.1f}); day N after {hist['rows']:,} rows of {hist_days} days"
                      f" {dn['seconds']:.2f}s ({dn['rate']:,.0f}/s, load {dn['loadavg']:.1f}):"
                      f" day N / day 1 = {dn['seconds'] / d1['seconds']:.2f}", flush=True)
            result["history"] = flat

            if args.mapping:
                result["mapping"] = _mapping(tmp, url, reset)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["load_avg_after"] = _loadavg()
    emit("ingest_video", **result)
    return 0


def _mapping(tmp: Path, url: str, reset) -> dict:
    """One process per file (the floor of one mapped task per file) vs one batch over 2 workers."""
    from supervision.ingest.video import finish_load, load_video_files, plan_load

    land = tmp / "mapping"
    n_files, per = 24, 5_000
    generate(land, n_files * per, n_files, seed=5)
    reset()
    paths = [p for b in plan_load(land, url) for p in b]
    t = time.perf_counter()
    for p in paths:
        _sub("one_file", str(land), url, p)
    finish_load(url)
    per_file = time.perf_counter() - t
    reset()
    paths = [p for b in plan_load(land, url) for p in b]
    t = time.perf_counter()
    load_video_files(land, url, "bench-batch", paths, workers=2)
    finish_load(url)
    batched = time.perf_counter() - t
    print(f"mapping: {n_files} files x {per:,} events: one process per file {per_file:.1f}s,"
          f" one batch over 2 workers {batched:.1f}s", flush=True)
    return {"files": n_files, "events_per_file": per, "process_per_file_s": per_file, "batched_s": batched}


if __name__ == "__main__":
    sys.exit(main())
