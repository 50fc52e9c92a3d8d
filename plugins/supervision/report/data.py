"""What a monthly report holds, gathered by SQL from the marts, the alert table and the review trail.

``gather(conn, scope, month)`` reads, for one district (or the city, ``310000``) and one month:
progress against the 2024 targets (``marts.district_target_progress``), alerts by rule with their
review state and time to decision (``marts.supervision_alerts``, ``review.alert_events``), the
riskiest training institutions (``marts.institution_scorecard``) and evaluation orgs
(``marts.evaluation_org_quality``) with the reasons, and the confirmed cases.

It runs on any connection that may read those tables: the warehouse owner (the monthly DAG) or a
review-application transaction under a user's role (row-level security then narrows the alerts
further). Alerts belong to the month of ``occurred_on`` (the marts' convention); review states are
those at the time of gathering.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg.rows import dict_row

from supervision.config import CITY_CODE, DISTRICTS, settings
from supervision.report import labels

TOP_N = 10              # institutions and evaluation orgs listed as the riskiest
DECISIONS = ("confirm", "dismiss", "resolve")

# The marts' columns the report reads (tests/report checks them against the dbt models' YAML).
MART_COLUMNS = {
    "district_target_progress": ("district_code", "month", "metric_code", "month_value", "ytd_value",
                                 "annual_target", "ytd_pct_of_target"),
    "institution_scorecard": ("institution_id", "district_code", "month", "risk_score", "grade", "sessions_held",
                              "camera_coverage_pct", "alerts_high", "alerts_medium", "alerts_low"),
    "evaluation_org_quality": ("org_id", "district_code", "kind_code", "month", "exams", "candidates", "pass_rate",
                               "baseline_pass_rate", "abnormal_pass_rate_alerts", "alerts_high", "alerts_medium",
                               "alerts_low"),
}


def previous_month(day: date) -> date:
    """The first day of the month before ``day``'s month: the month a report made on ``day`` is for."""
    first = day.replace(day=1)
    return first.replace(year=first.year - 1, month=12) if first.month == 1 else first.replace(month=first.month - 1)


def next_month(month: date) -> date:
    return month.replace(year=month.year + 1, month=1) if month.month == 12 else month.replace(month=month.month + 1)


def number(v: Any) -> Any:
    """A database numeric as int when whole, else float; None stays None."""
    if v is None:
        return None
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


@dataclass
class TargetRow:
    metric_code: str
    name: str
    unit: str
    month_value: Any
    ytd_value: Any
    annual_target: Any          # the city's target of the year (city row), None outside 2024
    pct_of_target: Any          # city: the mart's ytd_pct_of_target; district: ytd_value / city target x 100
    city_pct_of_target: Any     # the mart's ytd_pct_of_target of the city row


@dataclass
class RuleRow:
    rule_code: str
    name: str
    severity: str
    raised: int
    confirmed: int
    dismissed: int
    resolved: int
    open: int
    withdrawn: int
    median_hours: float | None
    mean_hours: float | None

    @property
    def decided(self) -> int:
        return self.confirmed + self.dismissed + self.resolved


@dataclass
class DistrictRow:
    district_code: str
    name: str
    raised: int
    decided: int
    confirmed: int
    open: int


@dataclass
class InstitutionRisk:
    institution_id: str
    name: str | None
    district_code: str
    risk_score: Any
    grade: str | None
    sessions_held: int
    camera_coverage_pct: Any
    alerts_high: int
    alerts_medium: int
    alerts_low: int
    top_rules: str

    @property
    def why(self) -> str:
        parts = [f"告警 高{self.alerts_high}/中{self.alerts_medium}/低{self.alerts_low}",
                 f"开课 {self.sessions_held} 次"]
        if self.camera_coverage_pct is not None:
            parts.append(f"摄像头覆盖率 {self.camera_coverage_pct:.1f}%")
        if self.top_rules:
            parts.append("主要：" + self.top_rules)
        return "；".join(parts)


@dataclass
class OrgRisk:
    org_id: str
    name: str | None
    district_code: str
    kind: str
    exams: int
    candidates: int
    pass_rate: Any
    baseline_pass_rate: Any
    abnormal_pass_rate_alerts: int
    alerts_high: int
    alerts_medium: int
    alerts_low: int
    risk_score: Any             # the mart's risk_score where it has one, else the weighted alert points
    top_rules: str

    @property
    def why(self) -> str:
        parts = [f"告警 高{self.alerts_high}/中{self.alerts_medium}/低{self.alerts_low}"]
        if self.pass_rate is not None:
            rate = f"合格率 {100 * self.pass_rate:.1f}%"
            if self.baseline_pass_rate is not None:
                rate += f"（基线 {100 * self.baseline_pass_rate:.1f}%）"
            parts.append(rate)
        if self.abnormal_pass_rate_alerts:
            parts.append(f"合格率异常 {self.abnormal_pass_rate_alerts} 场")
        if self.top_rules:
            parts.append("主要：" + self.top_rules)
        return "；".join(parts)


@dataclass
class ConfirmedCase:
    alert_id: str
    rule_code: str
    name: str
    severity: str
    district_code: str
    entity_key: str
    occurred_on: date
    subject: str                # the institution or evaluation org it concerns, where known
    confirmed_by: str | None
    confirmed_at: datetime | None
    comment: str | None


@dataclass
class MonthlyReport:
    scope: str                  # a district code, or 310000 for the city
    month: date                 # first day of the month
    generated_at: datetime
    targets: list[TargetRow] = field(default_factory=list)
    rules: list[RuleRow] = field(default_factory=list)
    districts: list[DistrictRow] = field(default_factory=list)     # the city's report only
    institutions: list[InstitutionRisk] = field(default_factory=list)
    orgs: list[OrgRisk] = field(default_factory=list)
    cases: list[ConfirmedCase] = field(default_factory=list)

    @property
    def is_city(self) -> bool:
        return self.scope == CITY_CODE

    @property
    def scope_name(self) -> str:
        return labels.scope_name(self.scope)

    @property
    def schedule_pct(self) -> float:
        """序时进度: the share of the year gone by the end of the month."""
        return round(100 * self.month.month / 12, 2)

    total: RuleRow | None = None   # every rule together (its decision times over all alerts)

    def file_stem(self) -> str:
        return f"supervision_report_{self.scope}_{self.month:%Y-%m}"


def _rows(conn, query: str, params: dict | tuple = ()) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def _columns(conn, table: str) -> set[str]:
    schema, name = table.split(".")
    return {r["column_name"] for r in _rows(
        conn, "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
        (schema, name))}


def _in_scope(column: str) -> str:
    """SQL condition: the row belongs to the report's scope (the city's report takes every row)."""
    return f"(%(scope)s = '{CITY_CODE}' or {column} = %(scope)s)"


def gather(conn, scope: str, month: date, generated_at: datetime | None = None) -> MonthlyReport:
    """The report of ``scope`` (a district code or ``310000``) for the month starting ``month``."""
    if scope != CITY_CODE and scope not in DISTRICTS:
        raise ValueError(f"not a district code (nor the city's {CITY_CODE}): {scope!r}")
    month = month.replace(day=1)
    p = {"scope": scope, "start": month, "end": next_month(month), "city": CITY_CODE,
         "decisions": list(DECISIONS), "top": TOP_N}
    tz = settings().tzinfo
    rep = MonthlyReport(scope, month, (generated_at or datetime.now(tz)).astimezone(tz))
    rep.targets = _targets(conn, p)
    rep.rules, rep.total = _rules(conn, p)
    if rep.is_city:
        rep.districts = _districts(conn, p)
    rep.institutions = _institutions(conn, p)
    rep.orgs = _orgs(conn, p)
    rep.cases = _cases(conn, p)
    for c in rep.cases:
        c.confirmed_at = c.confirmed_at.astimezone(tz) if c.confirmed_at else None
    return rep


def _targets(conn, p: dict) -> list[TargetRow]:
    rows = _rows(conn, """
        select t.metric_code, t.month_value, t.ytd_value, c.annual_target, t.ytd_pct_of_target,
               c.ytd_pct_of_target as city_pct
        from marts.district_target_progress t
        join marts.district_target_progress c
          on c.district_code = %(city)s and c.month = t.month and c.metric_code = t.metric_code
        where t.district_code = %(scope)s and t.month = %(start)s""", p)
    by_code = {r["metric_code"]: r for r in rows}
    order = [*labels.METRICS, *sorted(set(by_code) - set(labels.METRICS))]
    out = []
    for code in order:
        r = by_code.get(code)
        if r is None:
            continue
        name, unit = labels.METRICS.get(code, (code, ""))
        target = number(r["annual_target"])
        if p["scope"] == CITY_CODE:
            pct = number(r["ytd_pct_of_target"])
        else:
            pct = None if not target else float(r["ytd_value"]) * 100 / float(target)
        out.append(TargetRow(code, name, unit, number(r["month_value"]), number(r["ytd_value"]), target, pct,
                             number(r["city_pct"])))
    return out


def _rules(conn, p: dict) -> tuple[list[RuleRow], RuleRow]:
    rows = _rows(conn, f"""
        with a as (
            select * from marts.supervision_alerts
            where occurred_on >= %(start)s and occurred_on < %(end)s and {_in_scope('district_code')}
        ),
        decided as (
            select e.alert_id, min(e.at) as decided_at
            from review.alert_events e join a on a.alert_id = e.alert_id
            where e.action = any(%(decisions)s)
            group by e.alert_id
        )
        select a.rule_code, min(a.severity) as severity, count(*) as raised,
               count(*) filter (where a.status = 'confirmed') as confirmed,
               count(*) filter (where a.status = 'dismissed') as dismissed,
               count(*) filter (where a.status = 'resolved') as resolved,
               count(*) filter (where a.status = 'open' and a.is_active) as open,
               count(*) filter (where a.status = 'open' and not a.is_active) as withdrawn,
               percentile_cont(0.5) within group (
                   order by extract(epoch from d.decided_at - a.first_detected_at) / 3600.0)
                   filter (where d.decided_at is not null) as median_hours,
               avg(extract(epoch from d.decided_at - a.first_detected_at) / 3600.0)
                   filter (where d.decided_at is not null) as mean_hours
        from a left join decided d on d.alert_id = a.alert_id
        group by grouping sets ((a.rule_code), ())""", p)
    from supervision.catalogue import RULES

    def row(r: dict, code: str, name: str) -> RuleRow:
        return RuleRow(code, name, r["severity"] or "", r["raised"], r["confirmed"], r["dismissed"], r["resolved"],
                       r["open"], r["withdrawn"], None if r["median_hours"] is None else float(r["median_hours"]),
                       None if r["mean_hours"] is None else float(r["mean_hours"]))

    order = {code: i for i, code in enumerate(RULES)}
    per_rule = sorted((r for r in rows if r["rule_code"] is not None),
                      key=lambda r: (order.get(r["rule_code"], len(order)), r["rule_code"]))
    total = next((r for r in rows if r["rule_code"] is None), None)
    empty = {"severity": "", "raised": 0, "confirmed": 0, "dismissed": 0, "resolved": 0, "open": 0, "withdrawn": 0,
             "median_hours": None, "mean_hours": None}
    return ([row(r, r["rule_code"], labels.rule_name(r["rule_code"])) for r in per_rule],
            row({**(total or empty), "severity": ""}, "", "合计"))


def _districts(conn, p: dict) -> list[DistrictRow]:
    rows = _rows(conn, """
        select district_code, count(*) as raised,
               count(*) filter (where status <> 'open') as decided,
               count(*) filter (where status = 'confirmed') as confirmed,
               count(*) filter (where status = 'open' and is_active) as open
        from marts.supervision_alerts
        where occurred_on >= %(start)s and occurred_on < %(end)s
        group by district_code""", p)
    by_code = {r["district_code"]: r for r in rows}
    out = []
    for code in [*DISTRICTS, CITY_CODE, *sorted(set(by_code) - set(DISTRICTS) - {CITY_CODE})]:
        r = by_code.get(code, {"raised": 0, "decided": 0, "confirmed": 0, "open": 0})
        name = "市级（全市队列）" if code == CITY_CODE else labels.scope_name(code)
        out.append(DistrictRow(code, name, r["raised"], r["decided"], r["confirmed"], r["open"]))
    return out


def _top_rules(conn, p: dict, column: str, keys: Iterable[str]) -> dict[str, str]:
    """Per institution or org (``column`` of review.alert_links): its month's active alerts by rule,
    the most frequent first, e.g. '人数不足×3、摄像头未覆盖×1'."""
    keys = list(keys)
    if not keys:
        return {}
    rows = _rows(conn, f"""
        select l.{column} as key, a.rule_code, count(*) as n
        from review.alert_links l join marts.supervision_alerts a on a.alert_id = l.alert_id
        where l.{column} = any(%(keys)s) and a.is_active
          and a.occurred_on >= %(start)s and a.occurred_on < %(end)s
        group by 1, 2 order by 1, 3 desc, 2""", {**p, "keys": keys})
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["key"], []).append(f"{labels.rule_name(r['rule_code'])}×{r['n']}")
    return {k: "、".join(v[:3]) for k, v in out.items()}


def _institutions(conn, p: dict) -> list[InstitutionRisk]:
    rows = _rows(conn, f"""
        select s.institution_id, i.name, s.district_code, s.risk_score, s.grade, s.sessions_held,
               s.camera_coverage_pct, s.alerts_high, s.alerts_medium, s.alerts_low
        from marts.institution_scorecard s
        left join raw_training.institutions i on i.institution_id = s.institution_id
        where s.month = %(start)s and s.risk_score > 0 and {_in_scope('s.district_code')}
        order by s.risk_score desc, s.institution_id
        limit %(top)s""", p)
    why = _top_rules(conn, p, "institution_id", (r["institution_id"] for r in rows))
    return [InstitutionRisk(r["institution_id"], r["name"], r["district_code"], number(r["risk_score"]), r["grade"],
                            r["sessions_held"], number(r["camera_coverage_pct"]), r["alerts_high"],
                            r["alerts_medium"], r["alerts_low"], why.get(r["institution_id"], "")) for r in rows]


def _orgs(conn, p: dict) -> list[OrgRisk]:
    # The mart's own risk_score orders the orgs where it has one; otherwise the scorecard's alert
    # weights, then how far the pass rate stands above its baseline.
    if "risk_score" in _columns(conn, "marts.evaluation_org_quality"):
        score = "q.risk_score"
    else:
        score = "(10 * q.alerts_high + 3 * q.alerts_medium + q.alerts_low)"
    rows = _rows(conn, f"""
        select q.org_id, o.name, q.district_code, q.kind_code, q.exams, q.candidates, q.pass_rate,
               q.baseline_pass_rate, q.abnormal_pass_rate_alerts, q.alerts_high, q.alerts_medium, q.alerts_low,
               {score} as risk_score
        from marts.evaluation_org_quality q
        left join raw_assessment.evaluation_orgs o on o.org_id = q.org_id
        where q.month = %(start)s and {_in_scope('q.district_code')}
          and ({score} > 0 or q.abnormal_pass_rate_alerts > 0)
        order by {score} desc, coalesce(q.pass_rate - q.baseline_pass_rate, 0) desc, q.org_id
        limit %(top)s""", p)
    why = _top_rules(conn, p, "org_id", (r["org_id"] for r in rows))
    return [OrgRisk(r["org_id"], r["name"], r["district_code"], labels.ORG_KINDS.get(r["kind_code"], r["kind_code"] or ""),
                    r["exams"], r["candidates"], number(r["pass_rate"]), number(r["baseline_pass_rate"]),
                    r["abnormal_pass_rate_alerts"], r["alerts_high"], r["alerts_medium"], r["alerts_low"],
                    number(r["risk_score"]), why.get(r["org_id"], "")) for r in rows]


def _cases(conn, p: dict) -> list[ConfirmedCase]:
    rows = _rows(conn, f"""
        select a.alert_id, a.rule_code, a.severity, a.district_code, a.entity_key, a.occurred_on,
               coalesce(l.institution_id, l.org_id) as subject_id, coalesce(i.name, o.name) as subject_name,
               e.username, e.at, e.comment
        from marts.supervision_alerts a
        left join review.alert_links l on l.alert_id = a.alert_id
        left join raw_training.institutions i on i.institution_id = l.institution_id
        left join raw_assessment.evaluation_orgs o on o.org_id = l.org_id and l.institution_id is null
        left join lateral (
            select username, at, comment from review.alert_events ev
            where ev.alert_id = a.alert_id and ev.action = 'confirm'
            order by ev.at desc, ev.event_id desc limit 1) e on true
        where a.status = 'confirmed' and a.occurred_on >= %(start)s and a.occurred_on < %(end)s
          and {_in_scope('a.district_code')}
        order by a.district_code, a.occurred_on, a.rule_code, a.alert_id""", p)
    return [ConfirmedCase(r["alert_id"], r["rule_code"], labels.rule_name(r["rule_code"]), r["severity"],
                          r["district_code"], r["entity_key"], r["occurred_on"],
                          " ".join(x for x in (r["subject_name"], r["subject_id"]) if x), r["username"], r["at"],
                          r["comment"]) for r in rows]
