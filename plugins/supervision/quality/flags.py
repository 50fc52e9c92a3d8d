"""Record-level anomaly flags (the six low-severity rules): GX counts, findings inserted set-based.

A run checks a *population* per suite (``expectations/flags/<suite>.sql``): all of it in a full
run, or, in an incremental run, only the records whose inputs were loaded (``_loaded_at``) since
the last run (``expectations/flags/*.changed.sql``: the record itself and every row its
population joins). ops.gx_rule_findings always holds the complete current set of findings:

1. in one transaction: the checked population of each suite is materialised as the unlogged
   table ``ops.gx_flags__<suite>``; the findings of the checked records are deleted (all findings
   in a full run) and those the rule finds among them inserted, with the rule's very
   unexpected-rows query; findings of records not re-checked stay as they were;
2. GX validates those tables (the checked records, and nothing else) with the same
   unexpected-rows query plus the informational breakdown expectations, stores the results and
   builds Data Docs;
3. per suite, GX's unexpected count is compared with the rows inserted (``consistent`` in
   ops.gx_validation_results.summary); one row in ops.gx_flag_runs records what was re-checked.

A run is full when no earlier run is recorded, when the rendered suites (rules, thresholds, the
local time zone) differ from the last run's, or when asked (``full=True``, or the setting
``gx_flags_full``: SUPERVISION_GX_FLAGS_FULL=1). An incremental
run re-checks inputs loaded since the last run's snapshot minus ``OVERLAP``. The snapshot is the
start of the findings transaction, or the start of the oldest other transaction of the warehouse
database open at that moment if earlier: a load in flight stamps its rows with its own start
(``_loaded_at = now()``) and commits later, so its rows are re-checked next time. (Another role's
transactions show their start only to members of pg_read_all_stats; the loaders and the flags run
as the same role here; tests/quality/test_incremental_flags.py holds a load open across a run.
``OVERLAP`` is a second's margin on top: a wider one re-read the previous night's pull whenever
the flags ran within it of that pull's end, as they do a minute after it at city scale.) Its cost
follows what was loaded, not the history. Flags never fail a run: unexpected rows are findings, not errors.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from supervision.catalogue import codes
from supervision.config import LOCAL_TZ, settings
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
    safe_run_name,
)
from supervision.quality.results import ValidationOutcome, outcome_from_result, store_outcomes
from supervision.quality.spec import FlagSuite
from supervision.quality.thresholds import Threshold, load_thresholds, render_vars
from supervision.warehouse import one_row

log = logging.getLogger(__name__)

RULE_CODES = codes("gx")  # the record-level rules, from the catalogue
OVERLAP = dt.timedelta(seconds=1)  # margin before the last snapshot (see plan_run / replace_findings)
# An incremental run reads a suite's changed records by their key's index (`= any(array(...))`: one
# probe a key) when they are at most this share of the key's table, else through a hash semi-join
# (one scan of the table, which grows with the history). A quarter of city-scale attendance (9 M
# rows), WEAK_IDENTITY / ATTENDANCE_OUTSIDE_WINDOW, by index against by scan: 167,828 changed keys
# 1.1-1.3 / 1.8-1.9 s against 1.9-2.0 / 2.5 s; 212,166 keys 1.4-1.7 / 2.3-2.4 s against 2.0-2.4 /
# 2.9-3.0 s; 768,013 keys 5.7-6.3 / 9.2-9.5 s against 3.9-4.3 / 6.6-7.1 s: the two meet near 3.5 %
# (docs/decisions/0058-what-a-day-re-reads-of-the-history.md).
INDEX_SHARE_MAX = 0.03


class FlagCounts(dict[str, int]):
    """Findings per rule code (the complete current set; a plain dict to callers), with where the
    Data Docs were built and what this run re-checked."""

    docs_path: Path | None = None
    mode: str = "full"
    since: dt.datetime | None = None
    checked: dict[str, dict[str, int]] = {}  # noqa: RUF012 - replaced per instance


@dataclass(frozen=True)
class RenderedFlagSuite:
    spec: FlagSuite
    asset_sql: str              # the population, thresholds filled in
    unexpected_rows_query: str  # "select * from {batch} where <rule>", thresholds filled in
    changed_sql: str = ""       # keys of records whose inputs changed, with {{ since }} / {{ since_date }}
    local_tz: str = LOCAL_TZ    # the calendar of {{ since_date }} (and of the rendered SQL)

    @property
    def table(self) -> str:
        """The checked population, materialised in ops (what GX validates, and what the findings
        come from)."""
        return "gx_flags__" + self.spec.asset_sql.removesuffix(".sql")

    view = table  # the name it had when it was a view

    def changed(self, since: dt.datetime) -> str:
        if not self.changed_sql:
            raise ValueError(f"{self.spec.name}: no changed_sql, can not run incrementally")
        return (self.changed_sql.replace("{{ since }}", f"timestamptz '{since.isoformat()}'")
                .replace("{{ since_date }}", f"date '{since.astimezone(ZoneInfo(self.local_tz)).date().isoformat()}'"))

    def findings_insert(self) -> str:
        source = self.unexpected_rows_query.replace("{batch}", f"{VIEW_SCHEMA}.{self.table}")
        return (
            "insert into ops.gx_rule_findings"
            " (rule_code, entity_type, entity_key, district_code, occurred_on, evidence, run_id)\n"
            "select rule_code, entity_type, entity_key, district_code, occurred_on, evidence, %(run_id)s\n"
            f"from (\n{source}\n) as unexpected"
        )


def flag_suites(expectations_dir: Path | None = None) -> tuple[FlagSuite, ...]:
    return tuple(load_expectations_module("record_flags", expectations_dir).FLAG_SUITES)


def _read_sql(expectations_dir: Path, name: str) -> str:
    return (expectations_dir / "flags" / name).read_text(encoding="utf-8").strip().rstrip(";")


def render_flag_suites(thresholds: dict[str, Threshold], expectations_dir: Path | None = None,
                       local_tz: str | None = None) -> list[RenderedFlagSuite]:
    """The suites with their SQL filled in: thresholds, and ``local_timezone`` (default: the settings')."""
    s = settings()
    expectations_dir = expectations_dir or s.expectations_dir
    local_tz = local_tz or s.local_tz
    values = {**thresholds, "local_timezone": local_tz}
    out = []
    for spec in flag_suites(expectations_dir):
        out.append(RenderedFlagSuite(
            spec=spec,
            asset_sql=render_vars(_read_sql(expectations_dir, spec.asset_sql), values),
            unexpected_rows_query=spec.unexpected_rows_query(render_vars(spec.unexpected_where, values)),
            changed_sql=render_vars(_read_sql(expectations_dir, spec.changed_sql), values)
            if spec.changed_sql else "",
            local_tz=local_tz,
        ))
    return out


def definition_hash(suites: list[RenderedFlagSuite]) -> str:
    """What the findings depend on besides the data: every suite's population, rule and change
    detection, thresholds filled in. A different hash makes the next run a full one."""
    text = json.dumps([[s.spec.name, s.spec.rule_code, s.spec.entity_type, s.spec.key_column, s.asset_sql,
                        s.unexpected_rows_query, s.changed_sql] for s in suites], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class FlagPlan:
    mode: str                               # 'full' | 'incremental'
    since: dt.datetime | None               # incremental: inputs loaded at or after this
    snapshot_at: dt.datetime | None = None  # set inside the findings transaction
    definition_hash: str = ""
    checked: dict[str, dict[str, int]] = field(default_factory=dict)  # suite -> counts


def plan_run(conn: Any, suites: list[RenderedFlagSuite], full: bool, overlap: dt.timedelta) -> FlagPlan:
    digest = definition_hash(suites)
    last = conn.execute("select snapshot_at, definition_hash from ops.gx_flag_runs"
                        " order by flag_run_id desc limit 1").fetchone()
    if full or last is None or last[1] != digest or not all(s.changed_sql for s in suites):
        reason = ("asked" if full else "first run" if last is None else
                  "rules or thresholds changed" if last[1] != digest else "a suite without changed_sql")
        log.info("record flags: full run (%s)", reason)
        return FlagPlan("full", None, definition_hash=digest)
    return FlagPlan("incremental", last[0] - overlap, definition_hash=digest)


def _drop_relation(conn: Any, name: str) -> None:
    """Drop ops.<name> whether it is a table or (as before) a view."""
    kind = conn.execute("select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                        " where n.nspname = %s and c.relname = %s", (VIEW_SCHEMA, name)).fetchone()
    if kind:
        conn.execute(f"drop {'view' if kind[0] == 'v' else 'table'} {VIEW_SCHEMA}.{name}")


def _by_index(conn: Any, suite: RenderedFlagSuite, keys: int) -> bool:
    """Read the changed records by their key's index: few of the key table's rows (its planner
    estimate; a table never analysed has none, and is scanned)."""
    if not suite.spec.key_table:
        return False
    rows = one_row(conn.execute("select reltuples from pg_class where oid = %s::regclass",
                                (suite.spec.key_table,)))[0]
    return bool(0 < keys <= INDEX_SHARE_MAX * rows)


def replace_findings(warehouse_url: str, run_id: str | None, suites: list[RenderedFlagSuite],
                     plan: FlagPlan | None = None) -> dict[str, int]:
    """Materialise each suite's checked population and replace the findings of the checked records
    (all of them in a full run) in ops.gx_rule_findings, in one transaction; returns the rows
    inserted per suite. ``plan.checked`` gets per suite: checked, removed, inserted, and (incremental)
    keys_changed and by_index (1: the changed records were read by their key's index)."""
    from supervision.warehouse import connect

    plan = plan or FlagPlan("full", None, definition_hash=definition_hash(suites))
    inserted: dict[str, int] = {}
    with connect(warehouse_url) as conn:
        with conn.transaction():
            # one writer at a time; readers keep seeing the previous findings until commit
            conn.execute("lock table ops.gx_rule_findings in share row exclusive mode")
            # the next run starts from here: this transaction's start, or earlier if another
            # transaction of this database (a load in flight) started before it
            plan.snapshot_at = one_row(conn.execute(
                "select least(now(), (select min(xact_start) from pg_stat_activity"
                " where datname = current_database() and pid <> pg_backend_pid()"
                " and xact_start > now() - interval '1 hour'))"))[0]
            if plan.mode == "full":
                conn.execute("delete from ops.gx_rule_findings")
            changed_tables: dict[str, tuple[str, int]] = {}  # changed SQL -> temp table of its keys, their number
            for s in suites:
                _drop_relation(conn, s.table)
                counts: dict[str, int] = {}
                if plan.mode == "full":
                    conn.execute(f"create unlogged table {VIEW_SCHEMA}.{s.table} as\n{s.asset_sql}")
                else:
                    assert plan.since is not None
                    if s.changed_sql not in changed_tables:
                        name = f"_flags_changed_{len(changed_tables)}"
                        made = conn.execute(f"create temp table {name} on commit drop as\n"
                                            f"select k from (\n{s.changed(plan.since)}\n) as changed (k)")
                        changed_tables[s.changed_sql] = (name, made.rowcount)
                        conn.execute(f"analyze {name}")
                    keys, counts["keys_changed"] = changed_tables[s.changed_sql]
                    counts["by_index"] = int(_by_index(conn, s, counts["keys_changed"]))
                    changed = (f"= any(array(select k from {keys}))" if counts["by_index"]
                               else f"in (select k from {keys})")
                    conn.execute(
                        f"create unlogged table {VIEW_SCHEMA}.{s.table} as\n"
                        f"select * from (\n{s.asset_sql}\n) as population\n"
                        f"where {s.spec.key_column} {changed}")
                    cur = conn.execute(
                        "delete from ops.gx_rule_findings where rule_code = %s and entity_type = %s"
                        f" and entity_key in (select k::text from {keys})",
                        (s.spec.rule_code, s.spec.entity_type))
                    counts["findings_removed"] = cur.rowcount
                counts["checked"] = one_row(conn.execute(f"select count(*) from {VIEW_SCHEMA}.{s.table}"))[0]
                cur = conn.execute(s.findings_insert(), {"run_id": run_id})
                inserted[s.spec.name] = counts["findings_inserted"] = cur.rowcount
                plan.checked[s.spec.name] = counts
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
            asset = datasource.add_table_asset(s.spec.asset_sql.removesuffix(".sql"), table_name=s.table,
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
                     gx_dir: Path | None = None, expectations_dir: Path | None = None, full: bool | None = None,
                     overlap: dt.timedelta = OVERLAP) -> FlagCounts:
    """Find the six record-level rules' anomalies among the records whose inputs changed since the
    last run (all records in a full run: see the module doc); keep ops.gx_rule_findings the
    complete current set.

    Returns the number of current findings per rule code (every one of the six, 0 included; a dict
    whose ``docs_path`` attribute is the Data Docs index, ``mode``/``since``/``checked`` what this
    run re-checked). Also stores one row per suite in ops.gx_validation_results (kind 'flags': the
    validation of the records re-checked) and one in ops.gx_flag_runs, and rebuilds Data Docs under
    ``settings().gx_dir / "data_docs"``. Never raises because records are anomalous."""
    from supervision.warehouse import connect

    started = time.monotonic()
    thresholds = thresholds if thresholds is not None else load_thresholds()
    gx_dir = gx_dir or gx_dir_default()
    if full is None:
        full = settings().gx_flags_full
    suites = render_flag_suites(thresholds, expectations_dir)
    with connect(warehouse_url) as conn:
        plan = plan_run(conn, suites, full, overlap)
    inserted = replace_findings(warehouse_url, run_id, suites, plan)
    outcomes, docs = validate_flag_suites(warehouse_url, run_id, suites, thresholds, gx_dir)

    for s, outcome in zip(suites, outcomes, strict=True):
        gx_count = gx_unexpected_count(outcome)
        n = inserted[s.spec.name]
        outcome.asset = f"{VIEW_SCHEMA}.{s.table}"
        consistent = gx_count == n
        outcome.extra = {"rule_code": s.spec.rule_code, "entity_type": s.spec.entity_type,
                         "mode": plan.mode, "since": plan.since.isoformat() if plan.since else None,
                         **plan.checked[s.spec.name],
                         "gx_unexpected_count": gx_count, "consistent": consistent,
                         "thresholds": thresholds}
        if not consistent:
            log.error("%s: GX counted %s unexpected rows but %s findings were inserted (a bug: both read "
                      "the same table)", s.spec.name, gx_count, n)
    with connect(warehouse_url) as conn, conn.transaction():
        store_outcomes(conn, run_id, outcomes)
        # recorded last: a run that failed before this point is not a base for the next one
        conn.execute("insert into ops.gx_flag_runs (run_id, mode, since, snapshot_at, definition_hash, checked)"
                     " values (%s, %s, %s, %s, %s, %s)",
                     (run_id, plan.mode, plan.since, plan.snapshot_at, plan.definition_hash,
                      json.dumps(plan.checked)))
        current: dict[str, int] = dict(conn.execute("select rule_code, count(*) from ops.gx_rule_findings group by 1").fetchall())
    counts: Counter[str] = Counter({code: 0 for code in RULE_CODES})
    for code, n in current.items():
        counts[code] += int(n)
    log.info("record flags (%s%s): %s current findings in %.1fs; re-checked %s; Data Docs %s", plan.mode,
             f" since {plan.since.isoformat()}" if plan.since else "", dict(counts), time.monotonic() - started,
             {k: v["checked"] for k, v in plan.checked.items()}, docs)
    out = FlagCounts(counts)
    out.docs_path = docs
    out.mode = plan.mode
    out.since = plan.since
    out.checked = plan.checked
    return out
