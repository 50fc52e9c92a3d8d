"""Record-level anomaly flags (the six low-severity rules): GX counts, findings inserted set-based.

For every flag suite of ``expectations/record_flags.py``:

1. findings: ``insert into ops.gx_rule_findings ... select ... from (<the rule's unexpected-rows
   query, with {batch} = the population query>)`` - one statement per suite, all in one
   transaction that first empties the table (it holds the latest run's findings only);
2. GX validates the same population with the same unexpected-rows query (counted in PostgreSQL,
   at most 200 sample rows fetched) plus the informational breakdown expectations, stores the
   results and builds Data Docs;
3. per suite, GX's unexpected count is compared with the rows inserted: the comparison is kept in
   ops.gx_validation_results.summary (``consistent``) and a difference is logged as an error (it
   can only come from rows loaded between the two steps, or from a bug).

Flags never fail a run: unexpected rows are findings, not errors.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from supervision.quality.context import (
    VIEW_SCHEMA,
    add_warehouse,
    build_docs,
    dispose,
    docs_index,
    gx_dir_default,
    load_expectations_module,
    make_context,
    page_url,
    replace_view,
    safe_run_name,
)
from supervision.quality.results import ValidationOutcome, outcome_from_result, store_outcomes
from supervision.quality.spec import FlagSuite
from supervision.quality.thresholds import Threshold, load_thresholds, render_vars

log = logging.getLogger(__name__)

RULE_CODES = ("WEAK_IDENTITY", "INVALID_ID_NUMBER", "AGE_OUT_OF_RANGE", "ATTENDANCE_OUTSIDE_WINDOW",
              "SESSION_ODD_HOURS", "SCORE_FLAG_MISMATCH")


class FlagCounts(dict[str, int]):
    """Findings per rule code (a plain dict to callers), with where the Data Docs were built."""

    docs_path: Path | None = None


@dataclass(frozen=True)
class RenderedFlagSuite:
    spec: FlagSuite
    asset_sql: str              # the population, thresholds filled in
    unexpected_rows_query: str  # "select * from {batch} where <rule>", thresholds filled in

    @property
    def view(self) -> str:
        """The population as a view in ops (what GX validates, and what the findings come from)."""
        return "gx_flags__" + self.spec.asset_sql.removesuffix(".sql")

    def findings_insert(self) -> str:
        source = self.unexpected_rows_query.replace("{batch}", f"{VIEW_SCHEMA}.{self.view}")
        return (
            "insert into ops.gx_rule_findings"
            " (rule_code, entity_type, entity_key, district_code, occurred_on, evidence, run_id)\n"
            "select rule_code, entity_type, entity_key, district_code, occurred_on, evidence, %(run_id)s\n"
            f"from (\n{source}\n) as unexpected"
        )


def flag_suites(expectations_dir: Path | None = None) -> tuple[FlagSuite, ...]:
    return tuple(load_expectations_module("record_flags", expectations_dir).FLAG_SUITES)


def render_flag_suites(thresholds: dict[str, Threshold],
                       expectations_dir: Path | None = None) -> list[RenderedFlagSuite]:
    if expectations_dir is None:
        from supervision.config import settings

        expectations_dir = settings().expectations_dir
    out = []
    for spec in flag_suites(expectations_dir):
        sql = (expectations_dir / "flags" / spec.asset_sql).read_text(encoding="utf-8").strip().rstrip(";")
        out.append(RenderedFlagSuite(
            spec=spec,
            asset_sql=render_vars(sql, thresholds),
            unexpected_rows_query=spec.unexpected_rows_query(render_vars(spec.unexpected_where, thresholds)),
        ))
    return out


def replace_findings(warehouse_url: str, run_id: str | None, suites: list[RenderedFlagSuite]) -> dict[str, int]:
    """(Re)create the population views and replace ops.gx_rule_findings by this run's findings, in
    one transaction; returns the rows inserted per suite."""
    from supervision.warehouse import connect

    inserted: dict[str, int] = {}
    with connect(warehouse_url) as conn:
        with conn.transaction():
            # one writer at a time; readers keep seeing the previous findings until commit
            conn.execute("lock table ops.gx_rule_findings in share row exclusive mode")
            conn.execute("delete from ops.gx_rule_findings")
            for s in suites:
                replace_view(conn, s.view, s.asset_sql)
            for s in suites:
                cur = conn.execute(s.findings_insert(), {"run_id": run_id})
                inserted[s.spec.name] = cur.rowcount
    return inserted


def validate_flag_suites(warehouse_url: str, run_id: str | None, suites: list[RenderedFlagSuite],
                         thresholds: dict[str, Threshold], gx_dir: Path) -> tuple[list[ValidationOutcome], Path]:
    """Run the flag suites in GX (one checkpoint), build Data Docs; outcomes in suite order."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.core.run_identifier import RunIdentifier

    context = make_context(gx_dir)
    datasource = add_warehouse(context, warehouse_url)
    try:
        definitions = []
        for s in suites:
            asset = datasource.add_table_asset(s.spec.asset_sql.removesuffix(".sql"), table_name=s.view,
                                               schema_name=VIEW_SCHEMA)
            batch = asset.add_batch_definition_whole_table("all rows")
            rule = gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=s.unexpected_rows_query,
                description=f"{s.spec.rule_code}: {s.spec.description}",
                meta={"rule_code": s.spec.rule_code, "entity_type": s.spec.entity_type, "role": "rule"},
            )
            breakdown = [e.copy(update={"meta": {**(e.meta or {}), "role": "breakdown"}}) for e in s.spec.breakdown]
            suite = context.suites.add(gx.ExpectationSuite(
                name=s.spec.name, expectations=[rule, *breakdown],
                meta={"rule_code": s.spec.rule_code, "kind": "flags",
                      "notes": {"format": "markdown", "content": [s.spec.description]}},
            ))
            definitions.append(context.validation_definitions.add(
                gx.ValidationDefinition(name=s.spec.name, data=batch, suite=suite)))
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name="record_flags", validation_definitions=definitions,
            result_format={"result_format": "SUMMARY", "unexpected_index_column_names": ["entity_key"]},
        ))
        result = checkpoint.run(expectation_parameters=dict(thresholds),
                                run_id=RunIdentifier(run_name=safe_run_name(run_id or "adhoc")))
        build_docs(context, list(result.run_results))
        by_suite = {}
        for identifier, vr in result.run_results.items():
            name = vr.suite_name
            outcome = outcome_from_result(name, vr.asset_name or "", "flags", vr)
            outcome.docs_url = page_url(context, identifier)
            by_suite[name] = outcome
        return [by_suite[s.spec.name] for s in suites], docs_index(gx_dir)
    finally:
        dispose(datasource)


def gx_unexpected_count(outcome: ValidationOutcome) -> int | None:
    """The observed count of the suite's rule expectation (its UnexpectedRowsExpectation)."""
    for rec in outcome.expectations:
        if rec["type"] == "unexpected_rows_expectation":
            if rec.get("exception"):
                return None
            return int(rec["observed_value"])
    return None


def run_record_flags(warehouse_url: str, run_id: str | None, *, thresholds: dict[str, Threshold] | None = None,
                     gx_dir: Path | None = None, expectations_dir: Path | None = None) -> FlagCounts:
    """Find the six record-level rules' anomalies; replace ops.gx_rule_findings with them.

    Returns the number of findings per rule code (every one of the six, 0 included; a dict whose
    ``docs_path`` attribute is the Data Docs index). Also stores
    one row per suite in ops.gx_validation_results (kind 'flags') and rebuilds Data Docs under
    ``settings().gx_dir / "data_docs"``. Never raises because records are anomalous."""
    started = time.monotonic()
    thresholds = thresholds if thresholds is not None else load_thresholds()
    gx_dir = gx_dir or gx_dir_default()
    suites = render_flag_suites(thresholds, expectations_dir)
    inserted = replace_findings(warehouse_url, run_id, suites)
    outcomes, docs = validate_flag_suites(warehouse_url, run_id, suites, thresholds, gx_dir)

    counts: Counter[str] = Counter({code: 0 for code in RULE_CODES})
    for s, outcome in zip(suites, outcomes, strict=True):
        gx_count = gx_unexpected_count(outcome)
        n = inserted[s.spec.name]
        outcome.asset = f"{VIEW_SCHEMA}.{s.view}"
        counts[s.spec.rule_code] += n
        consistent = gx_count == n
        outcome.extra = {"rule_code": s.spec.rule_code, "entity_type": s.spec.entity_type,
                         "gx_unexpected_count": gx_count, "findings_inserted": n, "consistent": consistent,
                         "thresholds": thresholds}
        if not consistent:
            log.error("%s: GX counted %s unexpected rows but %s findings were inserted (rows loaded "
                      "meanwhile, or a bug)", s.spec.name, gx_count, n)
    from supervision.warehouse import connect

    with connect(warehouse_url) as conn, conn.transaction():
        store_outcomes(conn, run_id, outcomes)
    log.info("record flags: %s in %.1fs; Data Docs %s", dict(counts), time.monotonic() - started, docs)
    out = FlagCounts(counts)
    out.docs_path = docs
    return out


