"""One data test per model checks all its not-null columns (tests/generic/not_null_columns.sql):
it fails on a null in a marked column and names each such column with its number of null rows in
the log; it reads the rows of the latest build as the per-column tests did (a null left by an older
build is the whole-history sweep's); and the project marks every column the YAML calls not null
with a model-level test beside it, on real columns only."""
from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
import pytest

from supervision.dbt_runner import DbtError, project_dir, run_dbt
from supervision.pipeline import ensure_manifest

HERE = Path(__file__).resolve().parent
MODEL = "fct_session_checkins"  # marked: session_id, trainee_id; scope: the latest build
TEST = f"not_null_columns_{MODEL}_"  # dbt's name of a model-level test without arguments


def _exec(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _not_null_failures(url: str, target: list[str], capfd, *extra: tuple[str, str]) -> tuple[set[str], str]:
    """The failing tests of MODEL's not-null check and what dbt printed."""
    capfd.readouterr()
    try:
        run_dbt(["test", "--select", f"{MODEL},test_name:not_null_columns", *target], url,
                vars=dict(extra) if extra else None)
        failed: set[str] = set()
    except DbtError as err:
        failed = set(re.findall(r"test\.supervision\.(\w+?)\.[0-9a-f]{10}", str(err))) or {str(err)[:300]}
    return failed, capfd.readouterr().out


@pytest.mark.slow  # not in `make test-fast`: real dbt builds
def test_not_null_columns_names_each_null_column_in_the_latest_build(warehouse_db: str, tmp_path: Path, capfd) -> None:
    url, target = warehouse_db, ["--target-path", str(tmp_path / "target")]
    _exec(url, (HERE / "raw_dataset.sql").read_text(encoding="utf-8"))
    run_dbt(["run", "--select", f"+{MODEL}", *target], url)
    failed, out = _not_null_failures(url, target, capfd)
    assert failed == set() and "Failing rows" not in out
    with psycopg.connect(url) as conn:
        n, builds = conn.execute(f"select count(*), count(distinct _built_at) from core.{MODEL}").fetchone()
    assert n >= 3 and builds == 1

    # nulls in the latest build: trainee_id in two rows, session_id in one; the test fails and its
    # log names each column with its number of null rows (and no column without nulls)
    _exec(url, f"update core.{MODEL} set trainee_id = null where ctid in (select ctid from core.{MODEL} limit 2)")
    failed, out = _not_null_failures(url, target, capfd)
    assert failed == {TEST}, failed
    assert f"Failing rows of {TEST} (the rows of the latest build)" in out, out
    assert "column_name=trainee_id, null_rows=2" in out and "column_name=session_id" not in out, out
    _exec(url, f"update core.{MODEL} set session_id = null where ctid in ("
               f" select ctid from core.{MODEL} where trainee_id is not null limit 1)")
    failed, out = _not_null_failures(url, target, capfd)
    assert failed == {TEST}, failed
    assert "column_name=session_id, null_rows=1" in out and "column_name=trainee_id, null_rows=2" in out, out

    # the same nulls in rows of an older build: outside the daily scope, caught by the sweep
    _exec(url, f"update core.{MODEL} set _built_at = '2000-01-01' where session_id is null or trainee_id is null")
    assert _not_null_failures(url, target, capfd)[0] == set()
    failed, out = _not_null_failures(url, target, capfd, ("data_tests_scope", "all"))
    assert failed == {TEST} and "null_rows=2" in out, (failed, out)


def _marked(column: dict) -> bool:
    return bool(((column.get("config") or {}).get("meta") or {}).get("not_null") or (column.get("meta") or {}).get("not_null"))


def test_every_model_and_column_is_described_and_every_marked_column_checked() -> None:
    """Every model, seed and YAML column has a description. A column marked not null is tested only
    through its model's not_null_columns test: a marked column of a model without that test (an
    untested column), or the test on a model with no column marked, fails here."""
    ensure_manifest()
    nodes = json.loads((project_dir() / "target" / "manifest.json").read_text())["nodes"]
    described = [n for n in nodes.values() if n["resource_type"] in ("model", "seed")]
    assert len(described) >= 80 and all(n["description"] for n in described), \
        [n["name"] for n in described if not n["description"]]
    assert not [f"{n['name']}.{c}" for n in described for c, col in n["columns"].items() if not col["description"]]
    tested = {n["attached_node"] for n in nodes.values() if n["resource_type"] == "test"
              and (n.get("test_metadata") or {}).get("name") == "not_null_columns"}
    marked = {uid for uid, n in nodes.items() if n["resource_type"] in ("model", "seed")
              and any(_marked(c) for c in n["columns"].values())}
    assert marked == tested, {"marked without the test": marked - tested, "test without marks": tested - marked}
    assert len(tested) >= 70
    # dbt's per-column not_null remains only where a column may be null on some rows (a `where`)
    per_column = [n for n in nodes.values() if n["resource_type"] == "test"
                  and (n.get("test_metadata") or {}).get("name") == "not_null"]
    assert all(n["config"].get("where") for n in per_column), [n["name"] for n in per_column]
