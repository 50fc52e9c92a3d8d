"""End to end on real PostgreSQL, through the real CLI and Airflow, over the two simulated days
that the slow tests share (tests/simulated_run.py):

- ``supervision run`` of the two days (the reference run) passes the shared contract checker,
  and every labelled positive the simulator injected fires while no labelled near miss does (all
  22 rules have both within the two days);
- running a finished day again changes nothing;
- the same two days against an external PostgreSQL 15 (``SUPERVISION_WAREHOUSE_URL``), killed
  with SIGKILL in the middle of day 2 and then run again with the same command (day 1 again, then
  day 2), end with the same alerts, marts and raw counts as the reference run on the embedded
  PostgreSQL 18.

Each day costs about half a minute here (four real DAG runs).
"""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import psycopg
import pytest

from tests.conftest import CHECK_CONTRACT, source_env
from tests.simulated_run import (
    CLI,
    DAYS,
    FIRST,
    LAST,
    cli,
    env_for,
    fingerprint,
    stop_warehouse,
    warehouse_url,
)

pytestmark = [pytest.mark.slow, pytest.mark.simulated_days]


def test_run_passes_the_contract_checker(reference_run):
    res = subprocess.run([sys.executable, str(CHECK_CONTRACT), "--warehouse", reference_run["url"]],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-4000:]
    assert "checks hold" in res.stdout.splitlines()[-1]


def test_labelled_cases_fire_exactly(reference_run, simulated_sources):
    labels = list(csv.DictReader(open(simulated_sources["labels"], encoding="utf-8")))
    assert labels, "the simulator wrote no labels"
    with psycopg.connect(reference_run["url"]) as c:
        active = set(c.execute("select rule_code, entity_key from marts.supervision_alerts where is_active"))
    positives = [r for r in labels if r["must_fire"].lower() == "true"]
    near_misses = [r for r in labels if r["must_fire"].lower() != "true"]
    missed = [(r["rule_code"], r["entity_key"]) for r in positives if (r["rule_code"], r["entity_key"]) not in active]
    wrong = [(r["rule_code"], r["entity_key"]) for r in near_misses if (r["rule_code"], r["entity_key"]) in active]
    assert len({r["rule_code"] for r in positives}) == 22, "labelled positives do not cover the 22 rules"
    assert len({r["rule_code"] for r in near_misses}) == 22, "labelled near misses do not cover the 22 rules"
    assert not missed, f"{len(missed)} injected positives did not fire, e.g. {missed[:10]}"
    assert not wrong, f"{len(wrong)} injected near-misses fired, e.g. {wrong[:10]}"


def test_days_after_the_first_build_only_what_depends_on_the_day(reference_run):
    """The first day's two dbt builds are full and recorded (ops.dbt_deployment); every later day's
    builds are daily: no seed, no unit test (supervision.dbt_daily)."""
    with psycopg.connect(reference_run["url"]) as c:
        deployed = {r[0] for r in c.execute("select part from ops.dbt_deployment")}
        kinds = c.execute("""select business_day, part, array_agg(distinct resource_type order by resource_type)
                             from ops.dbt_node_results group by 1, 2 order by 1, 2""").fetchall()
    assert deployed == {"models", "alert_marts"}
    assert {(day, part) for day, part, _ in kinds} == {(FIRST + timedelta(days=i), part) for i in range(DAYS)
                                                       for part in ("models", "alert_marts")}
    for day, part, types in kinds:
        if day == FIRST:
            assert "unit_test" in types, (day, part, types)
        else:
            assert "model" in types and "test" in types, (day, part, types)
            assert not {"seed", "unit_test"} & set(types), (day, part, types)
    # every day's tests passed: the pulled tables' marks (macros/data_tests_scope.sql, the dbt build's
    # on-run-end hook) reach their newest pull
    loads_tested = {f"raw_training.{t}" for t in ("sessions", "trainees", "enrollments", "attendance", "subsidy_claims")}
    with psycopg.connect(reference_run["url"]) as c:
        marks = dict(c.execute("select raw_table, tested_through from ops.data_tests_loads_tested"))
        newest = {t: c.execute(f"select max(_loaded_at) from {t}").fetchone()[0] for t in loads_tested}
    assert marks == newest


def test_rerun_changes_nothing(reference_run):
    cli(reference_run["env"], "run", "--start", str(LAST), "--end", str(LAST))
    assert fingerprint(reference_run["url"]) == reference_run["fp"]


def test_external_postgres15_killed_halfway_then_rerun_gives_the_same_result(
        simulated_sources, reference_run, pg15_admin_url, tmp_path_factory):
    with psycopg.connect(pg15_admin_url, autocommit=True) as c:
        c.execute("drop database if exists e2e_warehouse with (force)")
        c.execute("create database e2e_warehouse")
    url = pg15_admin_url.rsplit("/", 1)[0] + "/e2e_warehouse"
    env = env_for(tmp_path_factory.mktemp("e2e_pg15"), SUPERVISION_WAREHOUSE_URL=url,
                  **source_env(simulated_sources))
    days = ["run", "--start", str(FIRST), "--end", str(LAST)]
    proc = subprocess.Popen([*CLI, *days], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    try:
        for line in proc.stdout:  # day 1 done: kill it in the middle of day 2
            seen.append(line)
            if line.startswith(f"[1/{DAYS}]"):
                time.sleep(12)
                break
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(60)
    seen += proc.stdout.read().splitlines(keepends=True)  # what it printed until the kill
    try:
        assert any(ln.startswith(f"[1/{DAYS}]") for ln in seen), "".join(seen)[-3000:]
        assert not any(ln.startswith(f"[2/{DAYS}]") for ln in seen), "day 2 ended before the kill: not a kill mid-day"
        assert proc.returncode == -signal.SIGKILL
        cli(env, *days)
        assert warehouse_url(env) == url
        with psycopg.connect(url) as c:
            assert c.execute("show server_version_num").fetchone()[0].startswith("15")
        assert fingerprint(url) == reference_run["fp"]
    finally:
        stop_warehouse(env)
