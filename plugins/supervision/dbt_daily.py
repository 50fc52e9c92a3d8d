"""What a day's dbt build runs, and what it leaves behind for the data engineer.

A day's data changes the tables and incremental models, and the data tests read it. Views, seeds
and unit tests do not depend on the day: a view is its SQL, a seed its CSV, a unit test checks SQL
against fixed rows. They need building (and checking) only when the project's code changes. So:

- **full build** (every node of the part, unit tests included): on a warehouse that was never built
  with this code, i.e. when the fingerprint of the project's files (models, macros, seeds, tests,
  ``dbt_project.yml``), the dbt vars and dbt's version differs from the one recorded in
  ``ops.dbt_deployment`` after the last successful full build, or when a view it recorded is missing;
- **daily build** otherwise: tables and incremental models, the views a table's rebuild drops
  (those downstream of a table), and all the data tests; the other views (staging, on the raw
  tables), seeds and unit tests are left as the full build made them.

Every node's result of every build lands in ``ops.dbt_node_results`` (run, business day, node,
status, seconds, rows, message): the per-model status the data engineer reads in SQL or BI, and the
failing nodes are named in the task's error.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# the two dbt builds of the marts DAG: everything before alert upkeep, and the marts that count alerts
PARTS = {"models": {"select": None, "exclude": "tag:after_alerts"},
         "alert_marts": {"select": "tag:after_alerts", "exclude": None}}
# What a daily build selects within a part: tables and incremental models; the views downstream of a
# table (rebuilding a table drops it with CASCADE, and its dependent views with it); and every data
# test (those of views included: they read the day's data). Selected, not excluded: excluding a view
# would drop its tests too (dbt's indirect selection).
DAILY_TERMS = ("config.materialized:table", "config.materialized:incremental",
               "config.materialized:view,config.materialized:table+", "resource_type:test")
DAILY_EXCLUDE = "resource_type:unit_test"
FAILED_STATUSES = ("error", "fail", "runtime error")
_FINGERPRINTED = ("dbt_project.yml", "packages.yml", "models", "macros", "seeds", "tests", "snapshots")


@dataclass(frozen=True)
class Plan:
    part: str
    full: bool
    reason: str
    select: str | None
    exclude: str | None
    fingerprint: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint(project_dir: Path, dbt_vars: dict[str, Any]) -> str:
    """A hash of everything that decides what a full build creates: the project's files, the vars
    and dbt's version."""
    from importlib.metadata import version

    h = hashlib.sha256()
    h.update(json.dumps({"vars": dbt_vars, "dbt": version("dbt-core"),
                         "adapter": version("dbt-postgres")}, sort_keys=True).encode())
    for name in _FINGERPRINTED:
        root = project_dir / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        for path in files:
            h.update(str(path.relative_to(project_dir)).encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def plan(part: str, warehouse_url: str, project_dir: Path, dbt_vars: dict[str, Any]) -> Plan:
    """The build ``part`` (``PARTS``) runs today: full or daily, and why."""
    from supervision.warehouse import connect

    base = PARTS[part]
    fp = fingerprint(project_dir, dbt_vars)
    with connect(warehouse_url) as conn:
        row = conn.execute("select fingerprint, views from ops.dbt_deployment where part = %s", (part,)).fetchone()
        missing = []
        if row is not None and row[0] == fp:
            missing = [v for (v,) in conn.execute(
                "select v from unnest(%s::text[]) v where to_regclass(v) is null", (row[1] or [],)).fetchall()]
    if row is None:
        full, reason = True, "first build of this warehouse"
    elif row[0] != fp:
        full, reason = True, "the project's code, vars or dbt version changed since the last full build"
    elif missing:
        full, reason = True, f"{len(missing)} view(s) of the last full build are missing, e.g. {missing[0]}"
    else:
        full, reason = False, "code unchanged since the last full build: views, seeds and unit tests skipped"
    if full:
        return Plan(part, True, reason, base["select"], base["exclude"], fp)
    return Plan(part, False, reason, *daily_selection(part), fp)


def daily_selection(part: str) -> tuple[str, str]:
    """``--select`` and ``--exclude`` of a daily build of ``part``."""
    base = PARTS[part]
    terms = DAILY_TERMS if base["select"] is None else tuple(f"{base['select']},{t}" for t in DAILY_TERMS)
    return " ".join(terms), " ".join(x for x in (base["exclude"], DAILY_EXCLUDE) if x)



def record(project_dir: str | Path, *, part: str, plan_dict: dict[str, Any], warehouse_url: str,
           run_id: str, business_day: str) -> dict[str, Any]:
    """After a build (Cosmos' callback, with the build's project folder): store every node's result
    in ``ops.dbt_node_results``; after a successful full build, record the fingerprint and the views
    it made in ``ops.dbt_deployment``. Returns counts by status."""
    from supervision.warehouse import connect

    target = Path(project_dir) / "target"
    results_file = target / "run_results.json"
    if not results_file.is_file():
        return {"recorded": 0}
    results = json.loads(results_file.read_text())["results"]
    rows = [(run_id, business_day, part, r["unique_id"], r["unique_id"].split(".", 1)[0], str(r["status"]),
             round(float(r.get("execution_time") or 0), 3),
             (r.get("adapter_response") or {}).get("rows_affected"), (r.get("message") or "")[:2000] or None)
            for r in results]
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row[5]] = statuses.get(row[5], 0) + 1
    # a build is good when nothing errored or failed: models and seeds end "success", tests "pass" or
    # "warn", exposures "no-op" (dbt 1.11), nodes after a failure "skipped" (with an error beside them)
    ok = not any(s in FAILED_STATUSES for s in statuses)
    with connect(warehouse_url) as conn:
        with conn.cursor() as cur:
            cur.execute("delete from ops.dbt_node_results where run_id = %s and part = %s", (run_id, part))
            cur.executemany(
                "insert into ops.dbt_node_results (run_id, business_day, part, unique_id, resource_type, status,"
                " seconds, rows_affected, message) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
            if ok and plan_dict.get("full") and rows:
                views = _views_built(target, {r["unique_id"] for r in results})
                cur.execute(
                    "insert into ops.dbt_deployment (part, fingerprint, views, run_id) values (%s, %s, %s, %s)"
                    " on conflict (part) do update set fingerprint = excluded.fingerprint, views = excluded.views,"
                    " run_id = excluded.run_id, built_at = now()",
                    (part, plan_dict["fingerprint"], views, run_id))
        conn.commit()
    return {"recorded": len(rows), **statuses}


def _views_built(target: Path, built: set[str]) -> list[str]:
    """schema.name of every view model the build made that a daily build leaves alone: those with no
    table model upstream (a view downstream of a table is dropped with it and rebuilt every day)."""
    manifest_file = target / "manifest.json"
    if not manifest_file.is_file():
        return []
    nodes = json.loads(manifest_file.read_text())["nodes"]

    def materialized(uid: str) -> str | None:
        return (nodes.get(uid, {}).get("config") or {}).get("materialized")

    def below_a_table(uid: str, seen: set[str]) -> bool:
        for parent in (nodes.get(uid, {}).get("depends_on") or {}).get("nodes", []):
            if parent in seen:
                continue
            seen.add(parent)
            if materialized(parent) == "table" or below_a_table(parent, seen):
                return True
        return False

    return sorted(f'{n["schema"]}.{n.get("alias") or n["name"]}' for uid, n in nodes.items()
                  if uid in built and n.get("resource_type") == "model" and materialized(uid) == "view"
                  and not below_a_table(uid, set()))
