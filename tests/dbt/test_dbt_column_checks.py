"""One data test per model runs every check its YAML marks (tests/generic/column_checks.sql):
not_null, unique, accepted_values on columns and a model's unique_combination. It fails on a null
in a not-null column, a repeated key, a value not accepted, and names each finding (check, column,
value, rows) in the log; it reads the rows of the latest build as the per-column tests did (a bad
row left by an older build is the whole-history sweep's); and the project marks columns only on
models that carry the test, on real columns only."""
from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
import pytest

from supervision.dbt_runner import DbtError, project_dir, run_dbt
from supervision.pipeline import ensure_manifest
from tests.conftest import dbt_target

HERE = Path(__file__).resolve().parent
MODEL = "fct_session_checkins"  # not null: session_id, trainee_id; key (session_id, trainee_id); scope: the latest build
TEST = f"column_checks_{MODEL}_"  # dbt's name of a model-level test without arguments


def _exec(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _failures(url: str, target: list[str], capfd, *extra: tuple[str, str]) -> tuple[set[str], str]:
    """The failing tests of MODEL's column checks and what dbt printed."""
    capfd.readouterr()
    try:
        run_dbt(["test", "--select", f"{MODEL},test_name:column_checks", *target], url,
                vars=dict(extra) if extra else None)
        failed: set[str] = set()
    except DbtError as err:
        failed = set(re.findall(r"test\.supervision\.(\w+?)\.[0-9a-f]{10}", str(err))) or {str(err)[:300]}
    return failed, capfd.readouterr().out


@pytest.mark.slow  # not in `make test-fast`: real dbt builds
def test_column_checks_name_each_null_column_in_the_latest_build(warehouse_db: str, tmp_path: Path, capfd) -> None:
    url, target = warehouse_db, dbt_target(tmp_path / "target")
    _exec(url, (HERE / "raw_dataset.sql").read_text(encoding="utf-8"))
    run_dbt(["run", "--select", f"+{MODEL}", *target], url)
    failed, out = _failures(url, target, capfd)
    assert failed == set() and "Failing rows" not in out
    with psycopg.connect(url) as conn:
        n, builds = conn.execute(f"select count(*), count(distinct _built_at) from core.{MODEL}").fetchone()
    assert n >= 3 and builds == 1

    # nulls in the latest build: trainee_id in two rows, session_id in one; the test fails and its
    # log names each column with its number of null rows (and no column without nulls)
    _exec(url, f"update core.{MODEL} set trainee_id = null where ctid in (select ctid from core.{MODEL} limit 2)")
    failed, out = _failures(url, target, capfd)
    assert failed == {TEST}, failed
    assert f"Failing rows of {TEST} (the rows of the latest build)" in out, out
    assert "check_name=not_null, column_names=trainee_id, failing_value=None, row_count=2" in out and "column_names=session_id" not in out, out
    _exec(url, f"update core.{MODEL} set session_id = null where ctid in ("
               f" select ctid from core.{MODEL} where trainee_id is not null limit 1)")
    failed, out = _failures(url, target, capfd)
    assert failed == {TEST}, failed
    assert "column_names=session_id, failing_value=None, row_count=1" in out and "column_names=trainee_id, failing_value=None, row_count=2" in out, out

    # the same nulls in rows of an older build: outside the daily scope, caught by the sweep
    _exec(url, f"update core.{MODEL} set _built_at = '2000-01-01' where session_id is null or trainee_id is null")
    assert _failures(url, target, capfd)[0] == set()
    failed, out = _failures(url, target, capfd, ("data_tests_scope", "all"))
    assert failed == {TEST} and "column_names=trainee_id, failing_value=None, row_count=2" in out, (failed, out)


@pytest.mark.slow  # not in `make test-fast`: real dbt builds
def test_column_checks_name_each_repeated_key_and_value_not_accepted(warehouse_db: str, tmp_path: Path, capfd) -> None:
    """The seed rule_catalogue: rule_code not null and unique, severity and engine from their lists.
    A repeated rule code and two values outside the lists fail the one test, each named in the log;
    a null in an accepted_values column is not a value outside the list (as dbt's own test)."""
    url, target = warehouse_db, dbt_target(tmp_path / "target")
    test = "column_checks_rule_catalogue_"

    def failures() -> tuple[set[str], str]:
        capfd.readouterr()
        try:
            run_dbt(["test", "--select", "rule_catalogue,test_name:column_checks", *target], url)
            return set(), capfd.readouterr().out
        except DbtError as err:
            return set(re.findall(r"test\.supervision\.(\w+?)\.[0-9a-f]{10}", str(err))), capfd.readouterr().out

    run_dbt(["seed", "--select", "rule_catalogue", *target], url)
    failed, out = failures()
    assert failed == set() and "Failing rows" not in out, (failed, out)
    _exec(url, "insert into core.rule_catalogue (rule_code, severity, entity_types, engine)"
               " select rule_code, 'critical', entity_types, 'spark' from core.rule_catalogue where rule_code = 'CAMERA_DOWN'")
    failed, out = failures()
    assert failed == {test}, failed
    assert "check_name=unique, column_names=rule_code, failing_value=CAMERA_DOWN, row_count=2" in out, out
    assert "check_name=accepted_values, column_names=severity, failing_value=critical, row_count=1" in out, out
    assert "check_name=accepted_values, column_names=engine, failing_value=spark, row_count=1" in out, out
    assert "check_name=not_null" not in out, out
    _exec(url, "delete from core.rule_catalogue where severity = 'critical';"
               " update core.rule_catalogue set severity = null where rule_code = 'CAMERA_DOWN'")
    failed, out = failures()
    assert failed == {test}, failed
    assert "check_name=not_null, column_names=severity, failing_value=None, row_count=1" in out, out
    assert "check_name=accepted_values" not in out and "check_name=unique" not in out, out


MARKS = ("not_null", "unique", "accepted_values")


def _meta(entry: dict) -> dict:
    return {**(entry.get("meta") or {}), **((entry.get("config") or {}).get("meta") or {})}


def _marked(node: dict) -> bool:
    return bool(_meta(node).get("unique_combination")) or any(
        _meta(c).get(mark) is not None for c in node["columns"].values() for mark in MARKS)


def test_every_model_and_column_is_described_and_every_marked_column_checked() -> None:
    """Every model, seed and YAML column has a description. A column's checks (not_null, unique,
    accepted_values) and a model's unique_combination are marks, run only by the model's
    column_checks test: marks on a model without that test (untested), or the test on a model
    without marks, fail here. dbt's own unique / accepted_values / not_null remain only where a
    check needs its own scope (a `where` other than the model's)."""
    ensure_manifest()
    nodes = json.loads((project_dir() / "target" / "manifest.json").read_text())["nodes"]
    described = [n for n in nodes.values() if n["resource_type"] in ("model", "seed")]
    assert len(described) >= 80 and all(n["description"] for n in described), \
        [n["name"] for n in described if not n["description"]]
    assert not [f"{n['name']}.{c}" for n in described for c, col in n["columns"].items() if not col["description"]]
    tests = [n for n in nodes.values() if n["resource_type"] == "test"]
    tested = {n["attached_node"] for n in tests if (n.get("test_metadata") or {}).get("name") == "column_checks"}
    marked = {uid for uid, n in nodes.items() if n["resource_type"] in ("model", "seed") and _marked(n)}
    assert marked == tested, {"marked without the test": marked - tested, "test without marks": tested - marked}
    assert len(tested) >= 75
    keys = [uid for uid in tested if _meta(nodes[uid]).get("unique_combination")
            or any(_meta(c).get("unique") for c in nodes[uid]["columns"].values())]
    assert len(keys) >= 70, len(keys)  # a key checked on nearly every model
    per_column = [n for n in tests if (n.get("test_metadata") or {}).get("name")
                  in ("not_null", "unique", "accepted_values", "unique_combination_of_columns")]
    assert per_column and all(n["config"].get("where") for n in per_column), [n["name"] for n in per_column]
