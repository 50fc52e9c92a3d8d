"""DAG integrity: every DAG file imports, defines DAGs with tags, retries and docs, no cycles,
and does no I/O at parse time (no network, no database), quickly."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # not in `make test-fast` (real dbt builds, services or subprocesses)

REPO = Path(__file__).resolve().parents[1]
DAG_FILES = sorted(p for p in (REPO / "dags").glob("*.py") if not p.name.startswith("_"))
EXPECTED = {"ingest_training_platform", "ingest_video_logs", "ingest_assessments", "supervision_marts",
            "supervision_monthly_report"}

# Imports each DAG file given, one DagBag per file, with network and database connections forbidden,
# and reports what each defines. One process for all the files: a process per file paid Airflow's
# import (about 5 s) once per file; each DagBag still loads its file alone, as the scheduler does.
PROBE = r"""
import json, socket, sys, time
def forbidden(*a, **k):
    raise RuntimeError("I/O at DAG parse time: network/database connection attempted")
socket.socket.connect = forbidden
socket.create_connection = forbidden
import psycopg
psycopg.connect = forbidden


from airflow.dag_processing.dagbag import DagBag
results = {}
for path in sys.argv[1:]:
    t0 = time.perf_counter()
    bag = DagBag(path)  # Airflow's own loader, on this one file
    elapsed = time.perf_counter() - t0
    if bag.import_errors:
        raise SystemExit("import errors: " + json.dumps(bag.import_errors))
    out = []
    for v in bag.dags.values():
        tasks = {t.task_id: sorted(t.upstream_task_ids) for t in v.tasks}
        out.append({"dag_id": v.dag_id, "tags": sorted(v.tags or []), "doc_md": bool(v.doc_md),
                    "retries": {t.task_id: t.retries for t in v.tasks}, "tasks": tasks})
    results[path] = {"seconds": elapsed, "dags": out}
print("RESULT" + json.dumps(results))
"""


def _probe(paths: list[Path], var_dir: Path) -> dict[str, dict]:
    import os

    from supervision.airflow_env import airflow_environ
    from supervision.config import Settings

    # URLs that nothing may connect to: parsing must not need a server
    dummy = {"SUPERVISION_WAREHOUSE_URL": "postgresql://probe:probe@127.0.0.1:9/warehouse",
             "SUPERVISION_TRAINING_DB_URL": "postgresql://probe:probe@127.0.0.1:9/training_platform",
             "SUPERVISION_AIRFLOW_DB_URL": "postgresql://probe:probe@127.0.0.1:9/airflow"}
    saved = {k: os.environ.get(k) for k in dummy}
    os.environ.update(dummy)
    try:
        af = airflow_environ(Settings(home=REPO, var_dir=var_dir))
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    env = {**os.environ, **dummy, **af}
    res = subprocess.run([sys.executable, "-c", PROBE, *map(str, paths)], capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, f"a DAG file failed to import:\n{res.stderr[-3000:]}"
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


@pytest.fixture(scope="module")
def probes(tmp_path_factory) -> dict[str, dict]:
    from supervision.pipeline import ensure_manifest

    ensure_manifest()  # Cosmos reads dbt_project/target/manifest.json at parse (LoadMode.DBT_MANIFEST)
    var_dir = tmp_path_factory.mktemp("probe_var")
    results = _probe(DAG_FILES, var_dir)
    return {p.name: results[str(p)] for p in DAG_FILES}


def test_all_expected_dags_exist(probes):
    ids = {d["dag_id"] for r in probes.values() for d in r["dags"]}
    assert EXPECTED <= ids


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_is_well_formed(probes, path):
    r = probes[path.name]
    assert r["dags"], f"{path.name} defines no DAG"
    for d in r["dags"]:
        assert d["tags"], f"{d['dag_id']} has no tags"
        assert d["doc_md"], f"{d['dag_id']} has no doc_md"
        assert d["tasks"], f"{d['dag_id']} has no tasks"
        # every task that talks to a system retries, except the dbt nodes (dbt's own run is one
        # producer task; a failed model is a bug, not a blip) and the quality gate (a failed gate is
        # a verdict on the data: retrying it would only delay the stop)
        no_retry = {t: n for t, n in d["retries"].items()
                    if n < 1 and not t.startswith("dbt_") and t != "quality_gates"}
        assert not no_retry, f"{d['dag_id']}: tasks without retries: {no_retry}"
        _assert_acyclic(d["dag_id"], d["tasks"])


def _assert_acyclic(dag_id: str, upstream: dict[str, list[str]]) -> None:
    state: dict[str, int] = {}

    def visit(n: str, path: tuple[str, ...]) -> None:
        if state.get(n) == 2:
            return
        assert state.get(n) != 1, f"cycle in {dag_id}: {' -> '.join(path + (n,))}"
        state[n] = 1
        for u in upstream.get(n, []):
            visit(u, path + (n,))
        state[n] = 2

    for node in upstream:
        visit(node, ())


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_fast(probes, path):
    # Measured figure is printed; the bound is generous for a 2-core machine under test load.
    seconds = probes[path.name]["seconds"]
    print(f"{path.name}: parsed in {seconds:.2f}s")
    assert seconds < 10, f"{path.name} took {seconds:.1f}s to parse"


def test_plugin_folder_scan_sees_only_the_entry_file():
    ignore = (REPO / "plugins" / ".airflowignore").read_text().split()
    assert "supervision/" in ignore
    assert (REPO / "plugins" / "supervision_plugin.py").exists()
