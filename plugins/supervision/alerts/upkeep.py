"""Alert upkeep: merge this run's rule findings into ``marts.supervision_alerts``.

Findings come from dbt (``rules.rule_findings``, 16 rules) and Great Expectations
(``ops.gx_rule_findings``, 6 record-level rules), each a full set over all data loaded so far,
in one shape: rule_code, entity_type, entity_key, district_code, occurred_on, evidence.

The merge, in one transaction:
- a finding not yet in the table is inserted (first_detected_at = last_detected_at = run time,
  status 'open');
- a finding already there moves last_detected_at and takes the new evidence, district and
  occurred_on, and is active again;
- an active alert not found any more becomes inactive (the row stays);
- ``status`` (the review state) is never written here.
Findings that break the contract's shape (unknown rule, wrong entity type, malformed key,
missing district) are not merged: they are counted and reported, and make the task fail,
because they mean a rule model is wrong.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from supervision.catalogue import RULES
from supervision.warehouse import one_row

if TYPE_CHECKING:
    import psycopg

FINDING_SOURCES = ("rules.rule_findings", "ops.gx_rule_findings")
# How many |-separated parts an entity key of each type has (RULES.md); every other type has one.
KEY_PARTS = {"trainee_sessions": 3, "session_trainee": 2, "assessor_exams": 3}


class UpkeepError(RuntimeError):
    pass


@dataclass
class UpkeepResult:
    findings: int = 0
    inserted: int = 0
    refreshed: int = 0
    deactivated: int = 0
    rejected: int = 0
    rejected_examples: list[str] = field(default_factory=list)
    by_rule: dict[str, int] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _existing_sources(conn: psycopg.Connection[Any], sources: Sequence[str]) -> list[str]:
    have = []
    for rel in sources:
        if one_row(conn.execute("select to_regclass(%s)", (rel,)))[0] is not None:
            have.append(rel)
    return have


def _validate_sql() -> str:
    """SQL flagging findings whose shape breaks the contract (reason text, else null)."""
    types_of_rule = " ".join(
        f"when '{code}' then array[{', '.join(repr(t) for t in sorted(spec.entity_types))}]"
        for code, spec in RULES.items()
    )
    parts_cases = " ".join(f"when '{t}' then {n}" for t, n in KEY_PARTS.items())
    return f"""
        case
          when rule_code is null or (case rule_code {types_of_rule} else null end) is null then 'unknown rule_code'
          when not (entity_type = any(case rule_code {types_of_rule} end)) then 'entity_type not the rule''s'
          when entity_key is null or entity_key = '' then 'empty entity_key'
          when cardinality(string_to_array(entity_key, '|'))
               <> (case entity_type {parts_cases} else 1 end) then 'entity_key has the wrong number of parts'
          when '' = any(string_to_array(entity_key, '|')) then 'entity_key has an empty part'
          when entity_type in ('trainee_sessions', 'assessor_exams')
               and not (split_part(entity_key, '|', 2) < split_part(entity_key, '|', 3))
               then 'entity_key pair not in ascending order'
          when entity_type = 'attendance' and entity_key !~ '^[0-9]+$' then 'attendance key not a number'
          when district_code is null or district_code !~ '^[0-9]{{6}}$' then 'district_code missing or not 6 digits'
          when occurred_on is null then 'occurred_on missing'
          else null
        end"""


def alert_id_sql(rule: str = "rule_code", key: str = "entity_key") -> str:
    return f"left(encode(sha256(convert_to({rule} || '|' || {key}, 'UTF8')), 'hex'), 20)"


def upkeep(conn: psycopg.Connection[Any], run_time: datetime | None = None,
           sources: Sequence[str] = FINDING_SOURCES, strict: bool = True) -> UpkeepResult:
    """Merge findings into the alert table inside the caller's transaction (``conn`` is psycopg 3)."""
    run_time = run_time or datetime.now(timezone.utc)
    res = UpkeepResult()
    res.sources = _existing_sources(conn, sources)
    severity_values = ", ".join(f"('{c}', '{s.severity}')" for c, s in RULES.items())
    conn.execute("drop table if exists pg_temp.run_findings")
    union = " union all ".join(
        f"select rule_code::text, entity_type::text, entity_key::text, district_code::text, "
        f"occurred_on::date, evidence::jsonb from {rel}" for rel in res.sources
    ) or ("select null::text, null::text, null::text, null::text, null::date, null::jsonb where false")
    conn.execute(f"""
        create temp table run_findings on commit drop as
        select f.*, sev.severity, {_validate_sql()} as problem
        from ({union}) as f(rule_code, entity_type, entity_key, district_code, occurred_on, evidence)
        left join (values {severity_values}) as sev(rule_code, severity) using (rule_code)""")
    bad = conn.execute(
        "select rule_code, entity_key, problem from run_findings where problem is not null limit 5").fetchall()
    res.rejected = one_row(conn.execute("select count(*) from run_findings where problem is not null"))[0]
    res.rejected_examples = [f"{r[0]} {r[1]!r}: {r[2]}" for r in bad]
    dup = conn.execute("""select rule_code, entity_key, count(*) from run_findings where problem is null
                          group by 1, 2 having count(*) > 1 limit 5""").fetchall()
    if dup:
        # Two findings for one (rule, entity) mean a rule model emits duplicates: keep one, say so.
        res.rejected_examples += [f"{r[0]} {r[1]!r}: found {r[2]} times" for r in dup]
    conn.execute("""
        insert into marts.supervision_alerts as a
            (alert_id, rule_code, severity, entity_type, entity_key, district_code, occurred_on, evidence,
             first_detected_at, last_detected_at, is_active, status)
        select distinct on (rule_code, entity_key)
               """ + alert_id_sql() + """, rule_code, severity, entity_type, entity_key, district_code,
               occurred_on, evidence, %(t)s, %(t)s, true, 'open'
        from run_findings where problem is null
        order by rule_code, entity_key, occurred_on, evidence::text
        on conflict (rule_code, entity_key) do update set
            severity = excluded.severity,
            entity_type = excluded.entity_type,
            district_code = excluded.district_code,
            occurred_on = excluded.occurred_on,
            evidence = excluded.evidence,
            last_detected_at = greatest(a.last_detected_at, excluded.last_detected_at),
            is_active = true""", {"t": run_time})
    counts = conn.execute("""
        select count(*) filter (where first_detected_at = %(t)s), count(*) filter (where first_detected_at < %(t)s)
        from marts.supervision_alerts a
        where exists (select 1 from run_findings f where f.problem is null
                      and f.rule_code = a.rule_code and f.entity_key = a.entity_key)""", {"t": run_time}).fetchone()
    assert counts is not None  # an aggregate: always one row
    res.inserted, res.refreshed = counts
    res.deactivated = conn.execute("""
        update marts.supervision_alerts a set is_active = false
        where a.is_active
          and not exists (select 1 from run_findings f where f.problem is null
                          and f.rule_code = a.rule_code and f.entity_key = a.entity_key)""").rowcount
    res.findings = one_row(conn.execute("select count(*) from run_findings"))[0]
    res.by_rule = dict(conn.execute(
        "select rule_code, count(*) from run_findings where problem is null group by 1 order by 1").fetchall())
    if strict and (res.rejected or dup):
        raise UpkeepError(
            f"{res.rejected} findings break the alert contract and {len(dup)} (rule, key) pairs repeat; "
            f"e.g. {'; '.join(res.rejected_examples)}")
    return res


def run_upkeep(warehouse_url: str | None = None, run_time: datetime | None = None) -> dict:
    """Upkeep in its own transaction; returns the counts (what the Airflow task logs and returns)."""
    from supervision.warehouse import connect

    run_time = run_time or datetime.now(timezone.utc)
    with connect(warehouse_url) as conn, conn.transaction():
        result = upkeep(conn, run_time)
    return {**json.loads(json.dumps(result.as_dict(), default=str)), "run_time": run_time.isoformat()}
