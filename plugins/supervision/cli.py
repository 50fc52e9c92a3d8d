"""`supervision`: the platform's command line. Every subcommand has --help."""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from typing import NoReturn


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from err


# --- warehouse ---------------------------------------------------------------------------------

def cmd_warehouse(args) -> int:
    from supervision.config import settings
    from supervision.warehouse import EmbeddedServer, bootstrap

    s = settings()
    if s.external_warehouse and args.action == "start":
        bootstrap(s.warehouse_url())
        print("SUPERVISION_WAREHOUSE_URL is set: the warehouse is that server (bootstrapped); the embedded"
              " one starts with `supervision run` / `serve` for Airflow's metadata only")
        return 0
    server = EmbeddedServer(s)
    if s.external_warehouse and args.action == "stop":
        # the warehouse is external, but the embedded server may still hold Airflow's metadata
        print("stopped the embedded server (Airflow's metadata); the external warehouse is untouched"
              if server.stop() else "not running (the warehouse is external: nothing to stop there)")
        return 0
    if args.action == "start":
        url = server.start()
        bootstrap(url)
        print(f"warehouse running on 127.0.0.1:{server.port} (data in {server.pgdata})")
    elif args.action == "stop":
        print("stopped" if server.stop() else "not running")
    elif args.action == "status":
        st = server.status() if not s.external_warehouse else {"external": True}
        print(json.dumps(st, indent=1))
        return 0 if st.get("running", True) else 3
    elif args.action == "url":
        print(s.warehouse_url())
    return 0


# --- simulator ---------------------------------------------------------------------------------

def cmd_generate(args) -> int:
    from supervision.simulator import generate

    summary = generate(start=args.start, end=args.end, scale=args.scale, seed=args.seed,
                       training_db_url=args.training_db_url, landing=args.landing,
                       anomaly_rate=args.anomaly_rate, fault_rate=args.fault_rate)
    print(summary if isinstance(summary, str) else json.dumps(summary, indent=1, default=str, ensure_ascii=False))
    return 0


# --- pipeline ----------------------------------------------------------------------------------

def cmd_run(args) -> int:
    from supervision.pipeline import run_days

    ok = run_days(args.start, args.end, progress=not args.quiet)
    return _exit_now(0 if ok else 1)


def _exit_now(code: int) -> NoReturn:
    """End the process without the interpreter's teardown. After a run, freeing Airflow's, dbt's and
    GX's object graphs module by module took 3-5 s (measured: the main thread busy with no Python
    frame for seconds after the last line); every transaction is committed by then, so flush the
    output and leave."""
    import logging

    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def cmd_demo(args) -> int:
    from supervision.pipeline import demo

    return 0 if demo(args.start, args.end, args.scale, args.seed, args.anomaly_rate) else 1


def cmd_summary(args) -> int:
    from supervision.summary import print_summary

    print_summary()
    return 0


def cmd_serve(args) -> int:
    from supervision.serve import serve

    return serve(review_port=args.port, airflow_port=args.airflow_port, airflow=not args.no_airflow,
                 host=args.host)


def cmd_bench(args) -> int:
    from supervision.bench_runner import run_benchmarks

    return run_benchmarks(args.only, quick=args.quick)


def cmd_dbt(args) -> int:
    from supervision.config import settings
    from supervision.dbt_runner import DbtError, run_dbt

    extra = list(args.dbt_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    try:
        run_dbt(extra, settings().warehouse_url())
    except DbtError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


def cmd_users(args) -> int:
    from supervision.review.users import main as users_main

    return users_main(args)


def cmd_roles(args) -> int:
    from supervision.access import sync_roles

    sync_roles()
    if args.superset_bundle:
        from pathlib import Path

        from supervision.bi_dashboards import dashboards_bundle
        from supervision.config import settings

        out = dashboards_bundle(settings().warehouse_url(), Path(args.superset_bundle), host=args.host, port=args.port)
        print(f"Superset bundle (marts datasets with descriptions, dashboards): {out} "
              f"(import: Dashboards -> Import, with the password of supervision_bi)")
    if not args.print_connection:
        print("roles in step")
        return 0
    from supervision.access.logins import connection_settings

    try:
        conn = connection_settings(args.print_connection, host=args.host, port=args.port)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(conn, ensure_ascii=False, indent=2))
    else:
        width = max(len(k) for k in conn)
        for key, value in conn.items():
            print(f"{key:<{width}}  {value}")
    print("(this holds a password: hand it over the way you hand over any password)", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="supervision", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("warehouse", help="start, stop or inspect the embedded PostgreSQL warehouse")
    p.add_argument("action", choices=["start", "stop", "status", "url"],
                   help="start (initialising it on first use), stop, status (JSON), url (owner URL)")
    p.set_defaults(func=cmd_warehouse)

    p = sub.add_parser("generate", help="write realistic simulated source data (training DB, video, assessment files)")
    p.add_argument("--start", type=_date, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--end", type=_date, required=True, help="last day, YYYY-MM-DD (inclusive)")
    p.add_argument("--scale", type=float, default=0.05, help="1.0 = the whole city (default 0.05)")
    p.add_argument("--seed", type=int, default=2024, help="random seed: same seed, same bytes")
    p.add_argument("--training-db-url", default=None, help="default: SUPERVISION_TRAINING_DB_URL or the embedded demo source")
    p.add_argument("--landing", default=None, help="default: SUPERVISION_LANDING_URL or var/landing")
    p.add_argument("--anomaly-rate", type=float, default=0.002,
                   help="labelled cases per rule and day = rate x 1,500 x scale (default 0.002)")
    p.add_argument("--fault-rate", type=float, default=0.02, help="share of files/rows with a known fault")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("run", help="run every pipeline (ingest, GX, dbt, alerts) for each day from START to END")
    p.add_argument("--start", type=_date, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--end", type=_date, required=True, help="last day, YYYY-MM-DD (inclusive)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="simulate each day's deliveries and run that day's pipelines (time passing)")
    p.add_argument("--start", type=_date, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--end", type=_date, required=True, help="last day, YYYY-MM-DD (inclusive)")
    p.add_argument("--scale", type=float, default=0.02, help="1.0 = the whole city (default 0.02)")
    p.add_argument("--seed", type=int, default=2024, help="random seed")
    p.add_argument("--anomaly-rate", type=float, default=0.02, help="labelled cases per rule and day / (1,500 x scale)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("summary", help="print alerts by rule and district and the city's progress against the 2024 targets")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("serve", help="serve the review application and the Airflow UI on 127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="review application port (default 8000)")
    p.add_argument("--airflow-port", type=int, default=8080, help="Airflow UI port (default 8080)")
    p.add_argument("--no-airflow", action="store_true", help="serve the review application only")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; 0.0.0.0 only inside a container behind a proxy)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("bench", help="run the benchmarks in bench/ and print one table of figures")
    p.add_argument("--only", nargs="*", default=None, help="names of benchmarks to run (default: all)")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("dbt", help="run dbt on the warehouse (the project's profile and connection), e.g. the"
                                   " whole-history sweep of the data tests: supervision dbt test --vars"
                                   " '{data_tests_scope: all}'")
    p.add_argument("dbt_args", nargs=argparse.REMAINDER, help="dbt's own arguments")
    p.set_defaults(func=cmd_dbt)

    p = sub.add_parser("users", help="manage review application users")
    p.add_argument("action", choices=["add", "list", "disable", "passwd"])
    p.add_argument("username", nargs="?")
    p.add_argument("--district", default=None, help="district code for a district user; omit for a city user")
    p.add_argument("--password", default=None, help="password (default: asked for, or SUPERVISION_NEW_PASSWORD)")
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("roles", help="create or update the database roles (BI, reviewers, loader, app)")
    p.add_argument("--print-connection", metavar="ROLE", default=None,
                   help="then print that login's connection for an analyst (supervision_bi, reviewer_city, "
                        "reviewer_<district>): host, port, database, user, password, schema, sslmode, URIs")
    p.add_argument("--host", default=None, help="with --print-connection / --superset-bundle: the host BI tools "
                                                "reach the warehouse by (default: the warehouse URL's)")
    p.add_argument("--port", type=int, default=None, help="with --print-connection / --superset-bundle: the port "
                                                          "BI tools reach it on")
    p.add_argument("--json", action="store_true", help="with --print-connection: as JSON")
    p.add_argument("--superset-bundle", metavar="ZIP", default=None,
                   help="also write a Superset import bundle: the marts as datasets (table and column descriptions "
                        "from the warehouse's comments, connected as supervision_bi, password left out) and the "
                        "supervision dashboards")
    p.set_defaults(func=cmd_roles)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
