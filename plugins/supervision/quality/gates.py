"""Quality gates on what was loaded (write-audit-publish): run before the marts of a day are built.

``run_gates(warehouse_url, run_id, day)`` validates the raw layer with the suites of
``expectations/gates.py`` (schema and types; per table keys, enums, ranges, null spikes, over the
whole table or the day's rows; volume of the day against the previous days; freshness), stores
one row per validation in ops.gx_validation_results (kind 'gate'), rebuilds Data Docs, and raises
``GateFailed`` naming every failed expectation when any gate fails: the DAG then stops before
dbt, so the marts already published stay as they were.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervision.config import settings
from supervision.quality.context import (
    VIEW_SCHEMA,
    add_warehouse,
    build_docs,
    dispose,
    docs_index,
    drop_views,
    gx_dir_default,
    load_expectations_module,
    make_context,
    page_url,
    replace_view,
    safe_run_name,
)
from supervision.quality.results import (
    ValidationOutcome,
    describe_failure,
    outcome_from_result,
    store_outcomes,
)
from supervision.quality.spec import GateSuite, SchemaGate

log = logging.getLogger(__name__)

RAW_SCHEMAS = ("raw_training", "raw_video", "raw_assessment")


@dataclass
class GateResult:
    day: dt.date
    run_id: str | None
    success: bool
    outcomes: list[ValidationOutcome]
    docs_path: Path
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def suites(self) -> list[str]:
        return [o.suite for o in self.outcomes]


class GateFailed(RuntimeError):
    """A quality gate failed: the day's marts must not be published. ``result`` has the details."""

    def __init__(self, result: GateResult):
        self.result = result
        lines = [f"quality gate failed for day {result.day} (run {result.run_id}): "
                 f"{len(result.failures)} expectation(s) failed"]
        lines += [f"  - {f}" for f in result.failures]
        lines.append(f"  Data Docs: {result.docs_path}")
        super().__init__("\n".join(lines))


def _as_date(day: dt.date | str) -> dt.date:
    if isinstance(day, dt.datetime):
        return day.astimezone(settings().tzinfo).date() if day.tzinfo else day.date()
    if isinstance(day, dt.date):
        return day
    return dt.date.fromisoformat(str(day)[:10])


def load_gate_suites(expectations_dir: Path | None = None) -> tuple[SchemaGate, tuple[GateSuite, ...]]:
    module = load_expectations_module("gates", expectations_dir)
    return module.SCHEMA, tuple(module.GATE_SUITES)


def day_view_sql(gate: GateSuite, day: dt.date) -> str:
    if gate.batch_sql:
        return gate.batch_sql.replace("{day}", f"date '{day.isoformat()}'")
    if not gate.day_expr:
        raise ValueError(f"{gate.name}: scope 'day' needs day_expr")
    return f"select * from {gate.table} where {gate.day_expr} = date '{day.isoformat()}'"


def day_view_name(gate: GateSuite, day: dt.date) -> str:
    """Per day, so that runs for different days can validate at the same time."""
    return f"gx_gate__{gate.table.replace('.', '__')}__{day:%Y%m%d}"


def create_day_views(warehouse_url: str, gates: tuple[GateSuite, ...], day: dt.date) -> dict[str, str]:
    from supervision.warehouse import connect

    views = {}
    with connect(warehouse_url) as conn, conn.transaction():
        for g in gates:
            if g.scope == "day":
                replace_view(conn, day_view_name(g, day), day_view_sql(g, day))
                views[g.name] = day_view_name(g, day)
    return views


def schema_asset_sql() -> str:
    schemas = ", ".join(f"'{s}'" for s in RAW_SCHEMAS)
    return ("select table_schema || '.' || table_name || '.' || column_name || ' ' || udt_name"
            f" as column_signature from information_schema.columns where table_schema in ({schemas})")


def volume_minimum(conn: Any, gate: GateSuite, day: dt.date) -> tuple[int, dict[str, Any]]:
    """Least acceptable row count for the day: min_ratio x the median of the counts of the same
    weekday in the previous weeks; 0 (no check) while too few of those days have rows or they are
    too small."""
    v = gate.volume
    assert v is not None and gate.day_expr
    same_weekdays = [day - dt.timedelta(weeks=w) for w in range(1, v.lookback_weeks + 1)]
    rows = conn.execute(
        f"select {gate.day_expr} as d, count(*) from {gate.table}"
        f" where {gate.day_expr} = any(%s) group by 1", (same_weekdays,)).fetchall()
    counts = [int(n) for _, n in rows]
    info: dict[str, Any] = {"previous_same_weekdays_with_rows": len(counts),
                            "lookback_weeks": v.lookback_weeks, "min_ratio": v.min_ratio}
    if len(counts) < v.min_history_days:
        info["applies"] = False
        return 0, info
    median = statistics.median(counts)
    info["median_previous_days"] = median
    if median < v.min_median:
        info["applies"] = False
        return 0, info
    if v.per_sql:  # rows per unit of the source's own activity (e.g. per held session)
        units = {d: int(n) for d, n in conn.execute(v.per_sql, ([*same_weekdays, day],)).fetchall()}
        by_day = {d: int(n) for d, n in rows}
        rates = [by_day.get(d, 0) / units[d] for d in same_weekdays if units.get(d)]
        info.update(per=v.per, units_on_day=units.get(day, 0), previous_days_with_units=len(rates))
        if len(rates) < v.min_history_days:
            info["applies"] = False
            return 0, info
        rate = statistics.median(rates)
        info["median_rows_per_unit"] = rate
        info["applies"] = True
        return int(math.floor(v.min_ratio * rate * units.get(day, 0))), info
    info["applies"] = True
    return int(math.floor(v.min_ratio * median)), info


def gate_parameters(warehouse_url: str, gates: tuple[GateSuite, ...], day: dt.date) -> tuple[dict, dict]:
    """Suite parameters of the day: volume minimums, freshness times, fixed per-suite values."""
    from supervision.warehouse import connect

    tz = settings().tzinfo
    day_start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    params: dict[str, Any] = {"day_start": day_start, "day_end": day_start + dt.timedelta(days=1)}
    notes: dict[str, Any] = {}
    with connect(warehouse_url) as conn:
        for g in gates:
            params.update(g.params)
            if g.volume:
                params[g.min_rows_param], notes[g.name] = volume_minimum(conn, g, day)
                notes[g.name]["min_rows"] = params[g.min_rows_param]
            if "video_fresh_hour" in g.params:
                params[f"{g.short}_fresh_from"] = day_start + dt.timedelta(hours=g.params["video_fresh_hour"])
    return params, notes


def run_gates(warehouse_url: str, run_id: str | None, day: dt.date | str, *, gx_dir: Path | None = None,
              expectations_dir: Path | None = None, raise_on_failure: bool = True) -> GateResult:
    """Validate what was loaded for ``day``; raise GateFailed (after storing results and building
    Data Docs) if any gate fails. Returns the GateResult otherwise."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.core.run_identifier import RunIdentifier

    started = time.monotonic()
    day = _as_date(day)
    gx_dir = gx_dir or gx_dir_default()
    schema, gates = load_gate_suites(expectations_dir)
    params, notes = gate_parameters(warehouse_url, gates, day)

    views = create_day_views(warehouse_url, gates, day)
    context = make_context(gx_dir)
    datasource = add_warehouse(context, warehouse_url)
    try:
        plan: list[tuple[str, str]] = []  # (suite name, asset name) in run order
        definitions = []
        # schema: one validation over information_schema (cheap, and readable as one list)
        asset: Any = datasource.add_query_asset("raw layer columns", query=schema_asset_sql())
        suite = context.suites.add(gx.ExpectationSuite(name=schema.name, expectations=[
            gxe.ExpectColumnDistinctValuesToContainSet(
                column="column_signature", value_set=schema.signatures(),
                description="Every raw column that dbt and the rules read exists, with its type."),
        ], meta={"kind": "gate"}))
        definitions.append(context.validation_definitions.add(gx.ValidationDefinition(
            name=schema.name, data=asset.add_batch_definition_whole_table("catalog"), suite=suite)))
        plan.append((schema.name, "raw layer columns"))
        for g in gates:
            asset_name = (g.table if g.scope == "table" else f"{g.table}: the batch for {day.isoformat()}"
                          if g.batch_sql else f"{g.table} rows of {day.isoformat()}")
            schema_name, table_name = (VIEW_SCHEMA, views[g.name]) if g.scope == "day" else g.table.split(".")
            asset = datasource.add_table_asset(asset_name, table_name=table_name, schema_name=schema_name)
            suite = context.suites.add(gx.ExpectationSuite(
                name=g.name, expectations=list(g.expectations),
                meta={"kind": "gate", "table": g.table, "scope": g.scope, "day_expr": g.day_expr,
                      **({"notes": {"format": "markdown", "content": [g.description]}} if g.description else {})}))
            definitions.append(context.validation_definitions.add(gx.ValidationDefinition(
                name=g.name, data=asset.add_batch_definition_whole_table("batch"), suite=suite)))
            plan.append((g.name, asset_name))
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name="gates", validation_definitions=definitions,
            result_format={"result_format": "SUMMARY"},
        ))
        run = checkpoint.run(expectation_parameters=params,
                             run_id=RunIdentifier(run_name=safe_run_name(run_id or f"gates {day.isoformat()}")))
        # the index: when the run stops here (failed gates) or there is none yet; else record flags build it
        build_docs(context, list(run.run_results), index=not run.success or not docs_index(gx_dir).is_file())
        by_suite: dict[str, ValidationOutcome] = {}
        for identifier, vr in run.run_results.items():
            outcome = outcome_from_result(vr.suite_name, "", "gate", vr)
            outcome.docs_url = page_url(context, identifier)
            by_suite[vr.suite_name] = outcome
    finally:
        dispose(datasource)
        drop_views(warehouse_url, list(views.values()))

    outcomes: list[ValidationOutcome] = []
    failures: list[str] = []
    for name, asset_name in plan:
        o = by_suite[name]
        o.asset = asset_name
        o.extra = {"day": day.isoformat(), **({"volume": notes[name]} if name in notes else {})}
        failures += [f"{name} [{asset_name}]: {describe_failure(rec)}" for rec in o.expectations
                     if not rec["success"]]
        outcomes.append(o)

    from supervision.warehouse import connect

    docs = docs_index(gx_dir)
    for o in outcomes:
        o.docs_url = o.docs_url or str(docs)
    with connect(warehouse_url) as conn, conn.transaction():
        store_outcomes(conn, run_id, outcomes)
    result = GateResult(day=day, run_id=run_id, success=not failures, outcomes=outcomes, docs_path=docs,
                        failures=failures, seconds=time.monotonic() - started)
    log.info("gates for %s: %s in %.1fs; Data Docs %s", day, "passed" if result.success else "FAILED",
             result.seconds, docs)
    if failures and raise_on_failure:
        raise GateFailed(result)
    return result
