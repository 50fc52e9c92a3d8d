"""The marts DAG's daily dbt selection and its plan (``supervision.dbt_daily``).

- The daily selection of each part is its full build less exactly what does not depend on the day:
  the views with no table upstream (a table's rebuild drops the views below it), seeds and unit
  tests; every data test stays (checked with ``dbt ls`` against the real project).
- The plan: a full build on a warehouse never built with this code, daily builds after a successful
  full build, a full build again when the code (here: the vars) changes or a view it made is gone;
  a failed build records its node results but not a deployment.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from supervision import dbt_daily
from supervision.dbt_runner import _environment, placeholder_env, project_dir
from supervision.pipeline import ensure_manifest

VARS = {"local_timezone": "Asia/Shanghai"}


def _ls(select: str | None, exclude: str | None) -> set[str]:
    from dbt.cli.main import dbtRunner

    project = project_dir()
    args = ["ls", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet",
            "--resource-type", "all", "--output", "json", "--output-keys", "unique_id",
            "--vars", json.dumps(VARS)]
    args += ["--select", select] if select else []
    args += ["--exclude", exclude] if exclude else []
    with _environment(placeholder_env()):
        result = dbtRunner().invoke(args)
    assert result.success, result.exception
    return {json.loads(line)["unique_id"] for line in result.result}


@pytest.fixture(scope="module")
def manifest() -> dict:
    ensure_manifest()
    return json.loads((project_dir() / "target" / "manifest.json").read_text())


def _static_views(manifest: dict) -> set[str]:
    """View models with no table model upstream, found independently of dbt_daily (breadth first)."""
    nodes = manifest["nodes"]
    out = set()
    for uid, node in nodes.items():
        if node["resource_type"] != "model" or node["config"]["materialized"] != "view":
            continue
        todo, seen, below_table = list(node["depends_on"]["nodes"]), set(), False
        while todo:
            parent = todo.pop()
            if parent in seen or parent not in nodes:
                continue
            seen.add(parent)
            below_table |= nodes[parent]["config"].get("materialized") == "table"
            todo += nodes[parent]["depends_on"]["nodes"]
        if not below_table:
            out.add(uid)
    return out


@pytest.mark.slow  # not in `make test-fast`: dbt lists the project's nodes four times
@pytest.mark.parametrize("part", list(dbt_daily.PARTS))
def test_the_daily_selection_is_the_full_build_less_what_does_not_depend_on_the_day(part, manifest):
    base = dbt_daily.PARTS[part]
    full = {u for u in _ls(base["select"], base["exclude"]) if not u.startswith(("source.", "exposure."))}
    daily = {u for u in _ls(*dbt_daily.daily_selection(part)) if not u.startswith(("source.", "exposure."))}
    unchanging = {u for u in full if u.startswith(("seed.", "unit_test."))} | (_static_views(manifest) & full)
    assert daily == full - unchanging
    assert {u for u in full if u.startswith("test.")} <= daily  # every data test runs every day
    if part == "models":
        assert any(u.startswith("unit_test.") for u in full) and any(u.startswith("seed.") for u in full)
        assert len(_static_views(manifest) & full) >= 15  # the staging views
        below = {u for u in full if u.startswith("model.") and manifest["nodes"][u]["config"]["materialized"] == "view"
                 } - _static_views(manifest)
        assert below and below <= daily  # a view below a table is rebuilt with it


def _fake_build(tmp_path: Path, manifest: dict, status: str) -> Path:
    """A build's project folder as Cosmos leaves it: target/run_results.json and manifest.json."""
    target = tmp_path / "build" / "target"
    if target.parent.exists():
        shutil.rmtree(target.parent)
    target.mkdir(parents=True)
    # the statuses dbt 1.11 gives each kind of node in a good build (exposures: "no-op")
    good = {"model": "success", "seed": "success", "test": "pass", "unit_test": "pass", "exposure": "no-op"}
    nodes = {**manifest["nodes"], **manifest.get("exposures", {})}
    uids = [u for u, n in nodes.items() if n["resource_type"] in good]
    assert any(u.startswith("exposure.") for u in uids), "the project's exposures are part of a build"
    results = [{"unique_id": u, "status": status if i == 0 else good[nodes[u]["resource_type"]],
                "execution_time": 0.25, "adapter_response": {"rows_affected": 3},
                "message": "boom" if i == 0 and status == "error" else None}
               for i, u in enumerate(uids)]
    results[1]["status"] = "warn" if results[1]["unique_id"].startswith("test.") else results[1]["status"]
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target.parent


def test_full_first_then_daily_and_full_again_after_a_change(warehouse_db, manifest, tmp_path):
    project = project_dir()
    first = dbt_daily.plan("models", warehouse_db, project, VARS)
    assert first.full and first.reason == "first build of this warehouse"
    assert (first.select, first.exclude) == (None, "tag:after_alerts")

    # a failed full build: its node results are kept, no deployment is recorded
    counts = dbt_daily.record(_fake_build(tmp_path, manifest, "error"), part="models", plan_dict=first.as_dict(),
                              warehouse_url=warehouse_db, run_id="r1", business_day="2024-03-01")
    assert counts["error"] == 1
    assert dbt_daily.plan("models", warehouse_db, project, VARS).full

    dbt_daily.record(_fake_build(tmp_path, manifest, "success"), part="models", plan_dict=first.as_dict(),
                     warehouse_url=warehouse_db, run_id="r2", business_day="2024-03-01")
    with psycopg.connect(warehouse_db) as conn:
        (views,), = conn.execute("select views from ops.dbt_deployment where part = 'models'").fetchall()
        by_run = dict(conn.execute("select run_id, count(*) from ops.dbt_node_results group by run_id").fetchall())
        (message,), = conn.execute("select message from ops.dbt_node_results where run_id = 'r1' and status = 'error'")
    built = [n for n in (*manifest["nodes"].values(), *manifest.get("exposures", {}).values())
             if n["resource_type"] in ("model", "seed", "test", "unit_test", "exposure")]
    assert message == "boom" and by_run["r1"] == by_run["r2"] == len(built) > 150  # every node of the build
    static = {f'{manifest["nodes"][u]["schema"]}.{manifest["nodes"][u]["alias"]}' for u in _static_views(manifest)}
    assert set(views) == static

    # the views the full build made are missing here (nothing really ran): a full build again
    again = dbt_daily.plan("models", warehouse_db, project, VARS)
    assert again.full and "missing" in again.reason
    with psycopg.connect(warehouse_db, autocommit=True) as conn:
        for view in views:
            schema, _ = view.split(".")
            conn.execute(f"create schema if not exists {schema}")
            conn.execute(f"create view {view} as select 1 as x")
    daily = dbt_daily.plan("models", warehouse_db, project, VARS)
    assert not daily.full and (daily.select, daily.exclude) == dbt_daily.daily_selection("models")

    changed = dbt_daily.plan("models", warehouse_db, project, {**VARS, "local_timezone": "Asia/Urumqi"})
    assert changed.full and "changed" in changed.reason
    # the other part has its own record
    assert dbt_daily.plan("alert_marts", warehouse_db, project, VARS).full
    with psycopg.connect(warehouse_db, autocommit=True) as conn:
        conn.execute(f"drop view {views[0]}")
    gone = dbt_daily.plan("models", warehouse_db, project, VARS)
    assert gone.full and views[0] in gone.reason


def test_the_fingerprint_follows_the_project_files(tmp_path):
    project = tmp_path / "p"
    shutil.copytree(project_dir(), project, ignore=shutil.ignore_patterns("target", "logs"))
    before = dbt_daily.fingerprint(project, VARS)
    assert dbt_daily.fingerprint(project, VARS) == before
    (project / "target").mkdir()
    (project / "target" / "run_results.json").write_text("{}")  # build output is not code
    assert dbt_daily.fingerprint(project, VARS) == before
    view = next((project / "models" / "staging").glob("stg_*.sql"))
    view.write_text(view.read_text() + "\n-- changed\n")
    assert dbt_daily.fingerprint(project, VARS) != before
