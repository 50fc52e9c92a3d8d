"""End to end on real PostgreSQL, through the real CLI and Airflow:

- `supervision generate` + `supervision run` for a week passes the shared contract checker, and
  every labelled positive the simulator injected fires while no labelled near-miss does;
- running a finished day again changes nothing;
- the first four days against an external PostgreSQL 15 (`SUPERVISION_WAREHOUSE_URL`), killed
  with SIGKILL in the middle of day 3 and then run again with the same command, end with the same
  content as the uninterrupted week had after its day 4 on the embedded PostgreSQL 18 (the week
  runs as two commands, days 1-4 and 5-7, so that this state can be fingerprinted).

Each day costs about a minute here (four real DAG runs), so the module takes about 15 minutes.
"""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import CHECK_CONTRACT, REPO

START, MID, END = "2024-01-01", "2024-01-04", "2024-01-07"
AFTER_MID = "2024-01-05"
SCALE = os.environ.get("SUPERVISION_E2E_SCALE", "0.01")
SEED = "7"
ANOMALY_RATE = "0.1"  # about 1.5 labelled cases per rule a day at scale 0.01
CLI = [sys.executable, "-m", "supervision.cli"]

pytestmark = pytest.mark.slow


def _env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERVISION_")}
    env.update({"SUPERVISION_HOME": str(REPO), "SUPERVISION_VAR_DIR": str(var_dir),
                "SUPERVISION_PII_KEY": "e2e-test-key"}, **extra)
    return env


def _cli(env: dict, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    res = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"supervision {' '.join(args)} failed ({res.returncode}):\n" \
                                f"{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    return res


def _warehouse_url(env: dict) -> str:
    return _cli(env, "warehouse", "url").stdout.strip().splitlines()[-1]


def fingerprint(url: str) -> dict[str, str]:
    """Content of everything a run produces, minus run timestamps: alerts and every mart."""
    out = {}
    with psycopg.connect(url) as c:
        out["alerts"] = c.execute("""
            select md5(coalesce(string_agg(concat_ws('|', alert_id, rule_code, severity, entity_type, entity_key,
                   district_code, occurred_on, evidence::text, is_active, status), E'\\n' order by alert_id), ''))
            from marts.supervision_alerts""").fetchone()[0]
        out["alert_count"] = str(c.execute("select count(*) from marts.supervision_alerts").fetchone()[0])
        tables = [r[0] for r in c.execute("""select table_name from information_schema.tables
                     where table_schema = 'marts' and table_name <> 'supervision_alerts' order by 1""")]
        for t in tables:
            out[t] = c.execute(f"""select md5(coalesce(string_agg(x::text, E'\\n' order by x::text), ''))
                                   from marts."{t}" x""").fetchone()[0]
        for t in ("raw_training.sessions", "raw_training.attendance", "raw_video.events",
                  "raw_assessment.exam_results", "ops.quarantine"):
            out[t] = str(c.execute(f"select count(*) from {t}").fetchone()[0])
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """One generated week, shared read-only by every run below (each run gets its own warehouse)."""
    var = tmp_path_factory.mktemp("e2e_gen")
    env = _env(var)
    _cli(env, "warehouse", "start")
    _cli(env, "generate", "--start", START, "--end", END, "--scale", SCALE, "--seed", SEED,
         "--anomaly-rate", ANOMALY_RATE)
    training_url = _cli(env, "warehouse", "url").stdout.strip().rsplit("/", 1)[0] + "/training_platform"
    yield {"var": var, "landing": var / "landing", "training_url": training_url,
           "labels": var / "simulator" / "labels.csv"}
    subprocess.run([*CLI, "warehouse", "stop"], env=env, capture_output=True)


def _sources(generated) -> dict[str, str]:
    return {"SUPERVISION_LANDING_URL": str(generated["landing"]),
            "SUPERVISION_TRAINING_DB_URL": generated["training_url"]}


@pytest.fixture(scope="module")
def uninterrupted(generated, tmp_path_factory):
    var = tmp_path_factory.mktemp("e2e_run")
    env = _env(var, **_sources(generated))
    t = time.monotonic()
    first = _cli(env, "run", "--start", START, "--end", MID)
    url = _warehouse_url(env)
    fp_mid = fingerprint(url)
    res = _cli(env, "run", "--start", AFTER_MID, "--end", END)
    print(f"uninterrupted run of a week: {time.monotonic() - t:.0f}s\n{first.stdout[-800:]}\n{res.stdout[-800:]}")
    yield {"env": env, "url": url, "fp": fingerprint(url), "fp_mid": fp_mid, "stdout": res.stdout}
    subprocess.run([*CLI, "warehouse", "stop"], env=env, capture_output=True)


def test_run_passes_the_contract_checker(uninterrupted):
    res = subprocess.run([sys.executable, str(CHECK_CONTRACT), "--warehouse", uninterrupted["url"]],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-4000:]
    assert "checks hold" in res.stdout.splitlines()[-1]


def test_labelled_cases_fire_exactly(uninterrupted, generated):
    labels = list(csv.DictReader(generated["labels"].open(encoding="utf-8")))
    assert labels, "the simulator wrote no labels"
    with psycopg.connect(uninterrupted["url"]) as c:
        active = set(c.execute("select rule_code, entity_key from marts.supervision_alerts where is_active"))
    missed = [(r["rule_code"], r["entity_key"]) for r in labels
              if r["must_fire"].lower() == "true" and (r["rule_code"], r["entity_key"]) not in active]
    wrong = [(r["rule_code"], r["entity_key"]) for r in labels
             if r["must_fire"].lower() != "true" and (r["rule_code"], r["entity_key"]) in active]
    rules = {r["rule_code"] for r in labels}
    assert len(rules) == 22, f"labels cover {len(rules)} rules"
    assert not missed, f"{len(missed)} injected positives did not fire, e.g. {missed[:10]}"
    assert not wrong, f"{len(wrong)} injected near-misses fired, e.g. {wrong[:10]}"


def test_rerun_changes_nothing(uninterrupted):
    _cli(uninterrupted["env"], "run", "--start", END, "--end", END)
    assert fingerprint(uninterrupted["url"]) == uninterrupted["fp"]


def test_external_postgres15_killed_halfway_then_rerun_gives_the_same_result(
        generated, uninterrupted, pg15_admin_url, tmp_path_factory):
    with psycopg.connect(pg15_admin_url, autocommit=True) as c:
        c.execute("drop database if exists e2e_warehouse with (force)")
        c.execute("create database e2e_warehouse")
    url = pg15_admin_url.rsplit("/", 1)[0] + "/e2e_warehouse"
    var = tmp_path_factory.mktemp("e2e_pg15")
    env = _env(var, SUPERVISION_WAREHOUSE_URL=url, **_sources(generated))
    proc = subprocess.Popen([*CLI, "run", "--start", START, "--end", MID], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    try:
        for line in proc.stdout:  # two days done: kill it in the middle of day 3
            seen.append(line)
            if line.startswith("[2/4]"):
                time.sleep(20)
                break
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(60)
    seen += proc.stdout.read().splitlines(keepends=True)  # what it printed until the kill
    try:
        assert any(ln.startswith("[2/4]") for ln in seen), "".join(seen)[-3000:]
        assert not any(ln.startswith("[3/4]") for ln in seen), "day 3 ended before the kill: not a kill mid-day"
        assert proc.returncode == -signal.SIGKILL
        _cli(env, "run", "--start", START, "--end", MID)
        assert _warehouse_url(env) == url
        with psycopg.connect(url) as c:
            assert c.execute("show server_version_num").fetchone()[0].startswith("15")
        assert fingerprint(url) == uninterrupted["fp_mid"]
    finally:
        subprocess.run([*CLI, "warehouse", "stop"], env=env, capture_output=True)
