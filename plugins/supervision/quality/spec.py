"""The shapes in which ``expectations/`` declares suites (the suites themselves live in the repo).

A *flag suite* is one record-level rule over one population: a query asset (an SQL file under
``expectations/flags/``) that yields one row per entity the rule looks at, with the finding's
columns (rule_code, entity_type, entity_key, district_code, occurred_on, evidence) already
computed, and ``unexpected_where``: the rule itself, as an SQL predicate over those columns.
GX evaluates ``select * from {batch} where <unexpected_where>`` (an UnexpectedRowsExpectation,
which counts in the database) and the findings are inserted with the very same text, so GX's
count and the findings agree by construction (and a test checks it). Optional *breakdown*
expectations (built-in GX expectations with thresholds as suite parameters) show each condition
of the rule in Data Docs, in GX's own words; they are informational and never produce findings.

A *gate suite* is a set of built-in expectations over what was loaded into one raw table
(the whole table, or the rows of the day being published).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ParamRef = dict[str, str]


def param(name: str) -> ParamRef:
    """A GX suite parameter reference (filled from the thresholds or the gate's day at run time)."""
    return {"$PARAMETER": name}


@dataclass(frozen=True)
class FlagSuite:
    name: str                   # GX suite name, e.g. "flags_weak_identity"
    rule_code: str              # a code of RULES.md
    entity_type: str            # as in RULES.md
    asset_sql: str              # file under expectations/flags/ (may use {{ var('threshold') }})
    unexpected_where: str       # the rule: SQL predicate over the asset's columns (may use {{ var(...) }})
    description: str            # the rule in words, shown in Data Docs
    breakdown: tuple[Any, ...] = ()  # built-in GX expectations, informational
    # incremental runs: an SQL file under expectations/flags/ giving the keys (one column, typed as
    # ``key_column``) of the records whose inputs were loaded at or after ``{{ since }}``
    changed_sql: str = ""
    key_column: str = "entity_key"  # the population's column those keys are compared with
    # the table whose primary key ``key_column`` is: when few of its rows changed, an incremental
    # run reads them by that index instead of scanning the table (quality.flags.INDEX_SHARE_MAX)
    key_table: str = ""

    def unexpected_rows_query(self, where: str) -> str:
        return f"select * from {{batch}} where {where}"


@dataclass(frozen=True)
class VolumeCheck:
    """The day's row count against the same weekday of the previous ``lookback_weeks`` weeks.

    Training runs on a weekly rhythm (few or no sessions on Sundays): a Sunday is compared with
    Sundays, so a quiet weekend is not a collapse, while a Tuesday at a tenth of past Tuesdays is."""
    min_ratio: float = 0.3      # fail under this share of the median of those days
    lookback_weeks: int = 4
    min_history_days: int = 2   # earlier same-weekday days with rows needed before the check applies
    min_median: int = 50        # ... and a median at least this large (tiny feeds are too noisy)
    # per unit of the source's own activity: SQL giving (day, units) for the days in %s (an array
    # of dates), e.g. sessions held per day. The day's minimum is then min_ratio x the median rows
    # per unit of the earlier days x the day's units: a public holiday without sessions expects no
    # attendance, while sessions held with their attendance missing still fail.
    per_sql: str = ""
    per: str = ""               # what a unit is, for the notes


@dataclass(frozen=True)
class GateSuite:
    name: str                   # GX suite name, e.g. "gate_raw_training__attendance"
    table: str                  # schema-qualified raw table
    scope: Literal["table", "day"]
    expectations: tuple[Any, ...]
    day_expr: str | None = None  # SQL giving a row's local date, for scope 'day' and volume
    volume: VolumeCheck | None = None
    description: str = ""
    params: dict[str, Any] = field(default_factory=dict)  # extra fixed suite parameters
    # scope 'day' over something other than the table's rows of the day: the batch's SQL
    # (``{day}`` = the day as a date literal); ``table`` then only names what it is about
    batch_sql: str = ""

    @property
    def short(self) -> str:
        return self.table.split(".", 1)[1]

    @property
    def min_rows_param(self) -> str:
        return f"{self.short}_min_rows"


@dataclass(frozen=True)
class SchemaGate:
    """The raw layer's columns and types (PostgreSQL udt names) that dbt and the rules read."""
    name: str
    columns: dict[str, str]     # table -> "col type, col type, ..."

    def signatures(self) -> list[str]:
        out = []
        for table, cols in self.columns.items():
            for part in cols.split(","):
                col, typ = part.split()
                out.append(f"{table}.{col} {typ}")
        return out
