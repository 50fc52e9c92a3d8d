"""The simulated days the slow tests share, and how they drive the real CLI.

One set of sources (``supervision generate``: 2024-01-01 and 02 at scale 0.01, seed 7, anomaly rate
0.1, which gives every one of the 22 rules labelled positives and near misses within the two days)
and one reference run over them (``supervision run``, embedded PostgreSQL) serve:

- tests/test_end_to_end.py: the contract checker, the labelled cases, a re-run that changes
  nothing, and PostgreSQL 15 killed in the middle of day 2 then run again (equal to the reference);
- tests/test_scheduler_and_celery.py: ``airflow backfill create`` of the first day and the
  scheduler's night of the second through two Celery workers (equal to the reference);
- tests/test_serve_loopback.py: ``supervision serve``'s own go-live night (LocalExecutor) on the
  last day, which loads them all as a go-live does.

The fixtures are in tests/conftest.py (session scope: generated and run once however many of
those modules run). `make test` runs these modules in a pytest process of their own
(`-m simulated_days`), beside the other tests, in a copy of the project folder (``copy_home``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from tests.conftest import REPO

FIRST, LAST = date(2024, 1, 1), date(2024, 1, 2)
DAYS = (LAST - FIRST).days + 1
SCALE = os.environ.get("SUPERVISION_E2E_SCALE", "0.01")
SEED = "7"
ANOMALY_RATE = "0.1"  # about 1.5 labelled cases per rule a day at scale 0.01
CLI = [sys.executable, "-m", "supervision.cli"]
# the slow tests' waiting runs check every few seconds instead of the deployment's 30
SENSOR_POKE_SECONDS = "5"


# the project folder the runs use (SUPERVISION_HOME): the repository, or its copy (``copy_home``)
HOME = REPO


def copy_home(dest: Path) -> Path:
    """A project folder of its own for the simulated days' runs: ``dbt_project`` copied (its
    parsed manifest and partial-parse file included, times kept, so nothing is parsed again), the
    code folders linked. Runs in it read no file that another test process's dbt commands rewrite
    in the repository's ``dbt_project/target`` (``make test`` runs these tests beside the others)."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        if Path(folder).name == "target":
            return {n for n in names if n not in ("manifest.json", "partial_parse.msgpack")}
        return {"logs"} & set(names)

    shutil.copytree(REPO / "dbt_project", dest / "dbt_project", ignore=ignore, symlinks=True)
    for name in ("dags", "expectations", "plugins"):
        (dest / name).symlink_to(REPO / name, target_is_directory=True)
    return dest


def env_for(var_dir: Path, **extra: str) -> dict[str, str]:
    """The test process's environment without its SUPERVISION_* variables, plus a var folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERVISION_")}
    env.update({"SUPERVISION_HOME": str(HOME), "SUPERVISION_VAR_DIR": str(var_dir),
                "SUPERVISION_PII_KEY": "e2e-test-key"}, **extra)
    return env


def cli(env: dict, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    res = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"supervision {' '.join(args)} failed ({res.returncode}):\n" \
                                f"{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    return res


def warehouse_url(env: dict) -> str:
    return cli(env, "warehouse", "url").stdout.strip().splitlines()[-1]


def stop_warehouse(env: dict) -> None:
    subprocess.run([*CLI, "warehouse", "stop"], env=env, capture_output=True)


RAW_COUNTED = ("raw_training.sessions", "raw_training.attendance", "raw_video.events",
               "raw_assessment.exam_results", "ops.quarantine")


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
        out.update(raw_counts(c))
    return out


def raw_counts(conn: psycopg.Connection) -> dict[str, str]:
    return {t: str(conn.execute(f"select count(*) from {t}").fetchone()[0]) for t in RAW_COUNTED}


def audit_counts(url: str) -> list[tuple]:
    """What the loads recorded, without run ids and times: per source and status, the files or
    tables and the row counts."""
    with psycopg.connect(url) as c:
        return c.execute("""select source, status, count(*), sum(received), sum(loaded), sum(duplicates),
                                   sum(quarantined), sum(skipped)
                            from ops.load_audit group by 1, 2 order by 1, 2""").fetchall()


def _settings():
    from supervision.config import Settings

    return Settings()


def logical_date_of(day: date) -> datetime:
    """The logical date of business day ``day``'s runs (the daily timetable: D at the run hour, local)."""
    s = _settings()
    return datetime(day.year, day.month, day.day, s.daily_run_hour, tzinfo=ZoneInfo(s.local_tz))
