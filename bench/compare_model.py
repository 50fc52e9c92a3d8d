"""One dbt model's full build, this code against a git ref, on an existing warehouse: seconds, the
server's peak memory, and whether the rows are the same.

How a change to a model's SQL is judged before it lands (decisions 0050-0052 were measured this
way): the model's full-refresh SQL is compiled twice, from the working tree and from ``--before``
(checked out in a temporary git worktree), against the warehouse of ``SUPERVISION_VAR_DIR`` (or
``SUPERVISION_WAREHOUSE_URL``); each is run as ``create table scratch.<model>__now`` /
``__before`` in alternation, ``--runs`` times, each in its own transaction on a fresh connection;
the last pair is compared with ``except`` both ways on every column but the build stamps
(``_built_at``, ``_run_started_at``). Nothing of the model's own table changes.

    SUPERVISION_VAR_DIR=/path/to/var .venv/bin/python bench/compare_model.py int_risk_org_links --before HEAD~1
    ... --runs 3 --run-date 2024-04-01          # the day the model's run-date macros see

Final line: JSON {"bench": "compare_model", ...}.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import BIN, REPO, PeakMemory, emit, git_worktree, mib, postmaster_of

STAMPS = ("_built_at", "_run_started_at")  # columns that differ by build, not by logic


def compiled_sql(tree: Path, model: str, target: Path, run_date: str | None) -> str:
    """The model's full-refresh SQL, compiled from the checkout at ``tree``."""
    from supervision.dbt_runner import RUN_DATE_ENV

    env = {**os.environ, "PYTHONPATH": str(tree / "plugins")}
    if run_date:
        env[RUN_DATE_ENV] = run_date
    res = subprocess.run([str(BIN / "supervision"), "dbt", "compile", "--full-refresh", "--select", model,
                          "--target-path", str(target)], env=env, cwd=tree, capture_output=True, text=True)
    files = list((target / "compiled").rglob(f"{model}.sql"))
    if res.returncode != 0 or len(files) != 1:
        raise SystemExit(f"compiling {model} in {tree} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return files[0].read_text()


def build(url: str, table: str, sql: str, postmaster: int | None) -> tuple[float, int, int]:
    """``create table <table> as <sql>``: seconds, rows, the server's peak PSS (bytes)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists scratch")
        conn.execute(f"drop table if exists {table}")
        memory = PeakMemory(postmaster=postmaster)
        with memory:
            t = time.monotonic()
            conn.execute(f"create table {table} as {sql}")
            seconds = time.monotonic() - t
        (rows,), = conn.execute(f"select count(*) from {table}").fetchall()
    return seconds, rows, memory.server_pss


def differences(url: str, a: str, b: str) -> tuple[int, int, list[str]]:
    """Rows of ``a`` not in ``b`` and of ``b`` not in ``a``, over the columns they share but the stamps."""
    import psycopg

    with psycopg.connect(url) as conn:
        def columns(table: str) -> list[str]:
            schema, name = table.split(".")
            return [c for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                " order by ordinal_position", (schema, name)).fetchall()]
        ca, cb = columns(a), columns(b)
        shared = [c for c in ca if c in cb and c not in STAMPS]
        cols = ", ".join(f'"{c}"' for c in shared)
        (only_a,), = conn.execute(f"select count(*) from (select {cols} from {a} except all select {cols} from {b}) d")
        (only_b,), = conn.execute(f"select count(*) from (select {cols} from {b} except all select {cols} from {a}) d")
    return only_a, only_b, sorted(set(ca) ^ set(cb))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--before", required=True, help="the git ref to compare with")
    ap.add_argument("--runs", type=int, default=2, help="builds of each, in alternation")
    ap.add_argument("--run-date", default=None, help="SUPERVISION_DBT_RUN_DATE for the compile")
    ap.add_argument("--keep", action="store_true", help="keep the scratch tables")
    args = ap.parse_args()

    from supervision.config import settings

    url = settings().warehouse_url()
    postmaster = postmaster_of(url)
    work = Path(tempfile.mkdtemp(prefix="compare_model_"))
    try:
        with git_worktree(args.before) as tree:
            sql_before = compiled_sql(tree, args.model, work / "target_before", args.run_date)
        sql = {"now": compiled_sql(REPO, args.model, work / "target_now", args.run_date),
               "before": sql_before}
        print(f"{args.model}: the SQL is {'the same' if sql['now'] == sql['before'] else 'different'} "
              f"(now {len(sql['now'])} characters, before {len(sql['before'])})", flush=True)
        seconds: dict[str, list[float]] = {"before": [], "now": []}
        rows: dict[str, int] = {}
        peak: dict[str, int] = {"before": 0, "now": 0}
        for i in range(args.runs):
            for side in ("before", "now"):
                s, n, p = build(url, f"scratch.{args.model}__{side}", sql[side], postmaster)
                seconds[side].append(round(s, 2))
                rows[side], peak[side] = n, max(peak[side], p)
                print(f"  run {i + 1} {side:6} {s:8.2f} s  {n:>10,} rows  server peak {mib(p):,} MiB", flush=True)
        only_now, only_before, column_diff = differences(url, f"scratch.{args.model}__now",
                                                         f"scratch.{args.model}__before")
        same = only_now == only_before == 0 and not column_diff
        print(f"rows only now {only_now}, only before {only_before}"
              + (f", columns in one only: {', '.join(column_diff)}" if column_diff else "")
              + (": the same rows" if same else ": DIFFERENT"))
        if not args.keep:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                for side in ("before", "now"):
                    conn.execute(f"drop table if exists scratch.{args.model}__{side}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    emit("compare_model", model=args.model, before=args.before, runs=args.runs,
         seconds_now=seconds["now"], seconds_before=seconds["before"], rows_now=rows["now"],
         rows_before=rows["before"], server_peak_pss_mib_now=mib(peak["now"]),
         server_peak_pss_mib_before=mib(peak["before"]), only_now=only_now, only_before=only_before,
         same_rows=same)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
