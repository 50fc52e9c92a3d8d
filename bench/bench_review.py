"""Benchmark of the review application: list and detail pages with one million alerts.

    .venv/bin/python bench/bench_review.py            # 1,000,000 alerts
    .venv/bin/python bench/bench_review.py --quick    # 100,000 alerts

Synthesises alerts with generate_series into a fresh database (on a temporary embedded server, or on
the server of SUPERVISION_WAREHOUSE_URL), serves the app with uvicorn in a separate process on
127.0.0.1, and times real HTTP requests (httpx, logged in, one client): p50/p95/max per scenario.
Goal: p95 < 150 ms. Prints a table, the peak memory while it serves (harness.PeakMemory: the app
process's RSS, and the PSS of it and PostgreSQL together), and a final JSON line.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack

from harness import PeakMemory, emit, scratch_database, scratch_server

PASSWORD = "bench password 1"

SYNTH_SQL = """
insert into marts.supervision_alerts (alert_id, rule_code, severity, entity_type, entity_key, district_code,
    occurred_on, evidence, first_detected_at, last_detected_at, is_active, status)
select substr(md5(g::text), 1, 20),
       r.code, r.sev, r.etype,
       case r.etype when 'trainee_sessions' then 'T' || g || '|S' || g || '|S' || (g + 1)
                    when 'session_trainee' then 'S' || g || '|T' || g
                    when 'assessor_exams' then 'A' || (g % 500) || '|E' || g || '|E' || (g + 1)
                    else upper(left(r.etype, 2)) || '-' || g end,
       d.code,
       date '2024-01-01' + (g::bigint * 7919 % 366)::int,
       jsonb_build_object('n', g % 97, 'share', round(((g % 100) / 100.0)::numeric, 2)),
       timestamptz '2024-01-02 03:00+08' + ((g::bigint * 7919 % 366)::int || ' days')::interval + ((g % 17) || ' hours')::interval,
       timestamptz '2024-12-31 03:00+08',
       g % 10 <> 0,
       (array['open','open','open','open','open','open','open','confirmed','dismissed','resolved'])[1 + g % 10 * 7 % 10]
from generate_series(1, {n}) g
cross join lateral (select ({rules})[1 + g % {nrules}] as code,
                           ({sevs})[1 + g % {nrules}] as sev,
                           ({etypes})[1 + g % {nrules}] as etype) r
cross join lateral (select ({districts})[1 + (g::bigint * 31 % {nd})::int] as code) d
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, round(p / 100 * len(xs) + 0.5) - 1))
    return xs[k]


def synthesise(url: str, n: int) -> dict:
    import psycopg

    from supervision.access import install_security
    from supervision.review import catalogue as cat
    from supervision.review.users import hash_password
    from supervision.warehouse import bootstrap

    bootstrap(url)
    rules = list(cat.RULES)
    districts = [*cat.ALL_DISTRICTS][1:] * 4 + ["310000"]     # the city's own alerts are rare
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set synchronous_commit = off")
        def arr(xs: list[str]) -> str:   # constants of the catalogue, not input
            return "array[" + ",".join(f"'{x}'" for x in xs) + "]::text[]"
        conn.execute(SYNTH_SQL.format(n=int(n), nrules=len(rules), nd=len(districts), rules=arr(rules),
                                      sevs=arr([cat.RULES[r][0] for r in rules]),
                                      etypes=arr([cat.RULES[r][1] for r in rules]), districts=arr(districts)))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    install_security(url)            # review schema: list indexes are built here, on the loaded table
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze marts.supervision_alerts")
        h = hash_password(PASSWORD)
        conn.execute("insert into review.users (username, password_hash, district_code) values "
                     "('bench_city', %s, null), ('bench_pudong', %s, '310115') on conflict do nothing", (h, h))
        size = conn.execute("select pg_size_pretty(pg_total_relation_size('marts.supervision_alerts'))").fetchone()[0]
        sample = [r[0] for r in conn.execute(
            "select alert_id from marts.supervision_alerts tablesample system (1) limit 400")]
        pd_sample = [r[0] for r in conn.execute(
            "select alert_id from marts.supervision_alerts where district_code = '310115' "
            "order by md5(alert_id) limit 200")]
    return {"load_s": load_s, "index_s": time.perf_counter() - t0, "size": size, "sample": sample,
            "pd_sample": pd_sample}


def start_server(url: str, port: int, env: dict) -> subprocess.Popen:
    code = ("import uvicorn; from supervision.review.app import create_app; "
            f"uvicorn.run(create_app({url!r}, install=False, links_refresh_seconds=1e9), host='127.0.0.1', "
            f"port={port}, log_level='warning', access_log=False)")
    return subprocess.Popen([sys.executable, "-c", code], env=env)


def wait_up(base: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    import httpx

    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the review server exited")
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the review server did not start")


def client_for(base: str, user: str):
    import httpx

    c = httpx.Client(base_url=base, timeout=60)
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token})
    assert r.status_code in (303, 200), r.status_code
    return c


def timed(c, paths: list[str], warmup: int = 10) -> list[float]:
    for p in paths[:warmup]:
        assert c.get(p).status_code == 200
    out = []
    for p in paths:
        t0 = time.perf_counter()
        r = c.get(p)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (p, r.status_code)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100,000 alerts instead of 1,000,000")
    ap.add_argument("--alerts", type=int, default=None)
    ap.add_argument("--requests", type=int, default=200, help="timed requests per scenario (default 200)")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args()
    n = args.alerts or (100_000 if args.quick else 1_000_000)
    import psycopg

    env = dict(os.environ)
    with ExitStack() as stack:
        server = stack.enter_context(scratch_server(os.environ.get("SUPERVISION_WAREHOUSE_URL"), "bench_review_"))
        if server.var_dir is not None:
            os.environ["SUPERVISION_VAR_DIR"] = env["SUPERVISION_VAR_DIR"] = str(server.var_dir)
        # the app role's password and the session key for this run only
        for k in ("SUPERVISION_APP_PASSWORD", "SUPERVISION_REVIEW_SESSION_SECRET"):
            os.environ.setdefault(k, uuid.uuid4().hex)
            env[k] = os.environ[k]
        url = stack.enter_context(scratch_database(server, "bench_review_", keep=args.keep))
        proc = None
        memory = PeakMemory(server=server)
        try:
            print(f"synthesising {n:,} alerts ...", flush=True)
            info = synthesise(url, n)
            print(f"  loaded in {info['load_s']:.1f} s, indexes/security in {info['index_s']:.1f} s, table {info['size']}")
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            proc = start_server(url, port, env)
            memory.start()
            memory.add_root(proc.pid)
            wait_up(base, proc)
            t0 = time.perf_counter()
            city = client_for(base, "bench_city")      # first use: connection pool; alert links start in the background
            first_s = time.perf_counter() - t0
            pd = client_for(base, "bench_pudong")
            t1 = time.perf_counter()
            with psycopg.connect(url) as conn:         # wait for the background linking of every alert
                while conn.execute("select count(*) from review.link_state").fetchone()[0] == 0:
                    time.sleep(0.5)
            link_s = time.perf_counter() - t1 + first_s
            k = args.requests
            rnd = random.Random(1)
            districts = [d for d in ("310101", "310104", "310115", "310112", "310151")]
            sorts = ["severity", "rule", "first_detected", "status", "district", "last_detected"]
            # follow keyset "next" links for deep pages
            deep, page = [], city.get("/alerts?sort=rule")
            for _ in range(20):
                m = re.search(r'href="([^"]+)" rel="next"', page.text)
                if not m:
                    break
                deep.append(m.group(1).replace("&amp;", "&"))
                page = city.get(deep[-1])
            scenarios = {
                "list_default_city": (city, ["/alerts"] * k),
                "list_district_filter_city": (city, [f"/alerts?district={districts[i % 5]}" for i in range(k)]),
                "list_sorted_city": (city, [f"/alerts?sort={sorts[i % 6]}&dir={'asc' if i % 2 else 'desc'}"
                                            for i in range(k)]),
                "list_filtered_combo_city": (city, [f"/alerts?rule=CAMERA_DOWN&severity=medium&status=open&date_from="
                                                    f"2024-0{1 + i % 9}-01&sort=occurred" for i in range(k)]),
                "list_keyset_pages_city": (city, [deep[i % len(deep)] for i in range(k)] if deep else ["/alerts"] * k),
                "list_default_district_user": (pd, ["/alerts"] * k),
                "detail_city": (city, [f"/alerts/{info['sample'][i % len(info['sample'])]}" for i in range(k)]),
                "detail_district_user": (pd, [f"/alerts/{info['pd_sample'][i % len(info['pd_sample'])]}" for i in range(k)]),
            }
            rnd.shuffle(info["sample"])
            results = {}
            print(f"\n{'scenario':<30} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
            for name, (c, paths) in scenarios.items():
                ms = timed(c, paths)
                results[name] = {"n": len(ms), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(pct(ms, 95), 1),
                                 "max_ms": round(max(ms), 1)}
                r = results[name]
                print(f"{name:<30} {r['n']:>5} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['max_ms']:>8}", flush=True)
            mem = memory.stop().figures()
            worst = max(r["p95_ms"] for r in results.values())
            print(f"\nfirst login {first_s:.2f} s; linking {n:,} alerts (background) {link_s:.1f} s; app peak RSS {mem['peak_rss_mib']} MiB, "
                  f"with PostgreSQL PSS {mem['peak_pss_mib']} MiB; worst p95 {worst} ms (goal < 150 ms: {'met' if worst < 150 else 'NOT met'})")
            emit("review_app", alerts=n, requests_per_scenario=k, load_s=round(info["load_s"], 1),
                 index_s=round(info["index_s"], 1), first_login_s=round(first_s, 2), link_all_s=round(link_s, 1),
                 **mem, table_size=info["size"], worst_p95_ms=worst, goal_p95_ms=150, goal_met=worst < 150,
                 scenarios=results)
            return 0
        finally:
            memory.stop()
            if proc is not None:
                proc.terminate()
                proc.wait(20)


if __name__ == "__main__":
    sys.exit(main())
