"""Rule precision as the reviewers see it: per rule, what became of its alerts, live.

The same definitions as the dbt mart ``marts.rule_precision`` (and ``marts.rule_dismissal_reasons``),
read straight from the alert table and the audit trail inside the user's ``Pool.as_user``
transaction, so that row-level security decides which alerts count (a district user sees its
district's figures, a city user every district's) and a decision shows at once rather than after
the next marts build:

* outcome of an alert: ``confirmed`` (status confirmed or resolved), ``dismissed``, ``open``
  (status open and still active), ``withdrawn`` (status open, no longer active);
* precision = confirmed / (confirmed + dismissed);
* time to decision: first detection to the audit event that set the current status (the latest
  confirm / dismiss / resolve event whose to_status is that status);
* a dismissal's reason: the comment of the latest dismiss event, whitespace collapsed and runs of
  six or more digits masked, as in the mart.

Beside the rules, the risk review row (``RISK_REVIEW``, as in the mart): the supervisors' verdicts
on risk findings (an institution or evaluation org in a month; ``review.risk_review``), confirmed
or dismissed by their standing verdict, open when flagged (evidence_score >= the mart's
risk_flag_points) without one, withdrawn when reopened and no longer flagged; by the finding's
district and month. The scorecards are not row-level secured: a district user's row is filtered to
its district here.
"""
from __future__ import annotations

from datetime import date
from typing import Any

OUTCOMES_SQL = """
with alerts as (
    select a.alert_id, a.rule_code, a.district_code, a.status, a.is_active, a.first_detected_at,
           date_trunc('month', a.occurred_on)::date as month
    from marts.supervision_alerts a
    where (%(district)s::text is null or a.district_code = %(district)s)
      and (%(month)s::date is null or date_trunc('month', a.occurred_on)::date = %(month)s)
), standing as (
    select distinct on (e.alert_id) e.alert_id, e.at as decided_at
    from review.alert_events e
    join alerts a on a.alert_id = e.alert_id and a.status = e.to_status
    where e.action in ('confirm', 'dismiss', 'resolve')
    order by e.alert_id, e.at desc, e.event_id desc
), outcomes as (
    select a.rule_code, a.status, a.is_active,
           case when a.status in ('confirmed', 'resolved') then 'confirmed'
                when a.status = 'dismissed' then 'dismissed'
                when a.is_active then 'open' else 'withdrawn' end as outcome,
           case when a.status in ('confirmed', 'resolved', 'dismissed')
                then extract(epoch from s.decided_at - a.first_detected_at) / 3600.0 end as hours
    from alerts a left join standing s on s.alert_id = a.alert_id
)
select rule_code,
       count(*) as alerts,
       count(*) filter (where outcome = 'open') as open_alerts,
       count(*) filter (where outcome = 'withdrawn') as withdrawn_alerts,
       count(*) filter (where outcome = 'confirmed') as confirmed_alerts,
       count(*) filter (where status = 'resolved') as resolved_alerts,
       count(*) filter (where outcome = 'dismissed') as dismissed_alerts,
       count(hours) as timed_decisions,
       -- unrounded: the page rounds once, to one decimal (rounded here too, 23802.148 showed as 23802.2)
       avg(hours) as mean_hours_to_decision,
       percentile_cont(0.5) within group (order by hours) as median_hours_to_decision
from outcomes
group by rule_code
"""

REASONS_SQL = """
with dismissed as (
    select a.alert_id, a.rule_code
    from marts.supervision_alerts a
    where a.status = 'dismissed'
      and (%(district)s::text is null or a.district_code = %(district)s)
      and (%(month)s::date is null or date_trunc('month', a.occurred_on)::date = %(month)s)
), standing as (
    select distinct on (e.alert_id) e.alert_id, e.comment
    from review.alert_events e join dismissed d on d.alert_id = e.alert_id
    where e.action = 'dismiss'
    order by e.alert_id, e.at desc, e.event_id desc
)
select d.rule_code,
       coalesce(nullif(btrim(regexp_replace(regexp_replace(s.comment, '[0-9]{6,}[0-9Xx]?', '***', 'g'),
                                            '\\s+', ' ', 'g')), ''), '(no reason recorded)') as reason,
       count(*) as n
from dismissed d left join standing s on s.alert_id = d.alert_id
group by 1, 2
order by 1, 3 desc, 2
"""

MONTHS_SQL = """
select distinct date_trunc('month', occurred_on)::date as month from marts.supervision_alerts
where %(district)s::text is null or district_code = %(district)s
order by 1 desc
"""

RISK_SQL = """
with findings as (
    select 'institution'::text as entity_type, institution_id as entity_id, district_code, month,
           coalesce(evidence_score, 0) >= %(flag)s as is_flagged
    from marts.institution_scorecard
    union all
    select 'evaluation_org', org_id, district_code, month, coalesce(evidence_score, 0) >= %(flag)s
    from marts.evaluation_org_quality
), outcomes as (
    select coalesce(v.district_code, f.district_code) as district_code, coalesce(v.month, f.month) as month,
           coalesce(f.is_flagged, false) as is_flagged, v.comment,
           case when v.verdict in ('confirmed', 'dismissed') then v.verdict
                when f.is_flagged then 'open' else 'withdrawn' end as outcome
    from findings f
    full join review.risk_verdicts v
      on v.entity_type = f.entity_type and v.entity_id = f.entity_id and v.month = f.month
    where v.entity_id is not null or f.is_flagged
)
select outcome, is_flagged,
       case when outcome = 'dismissed' then
           coalesce(nullif(btrim(regexp_replace(regexp_replace(comment, '[0-9]{6,}[0-9Xx]?', '***', 'g'),
                                                '\\s+', ' ', 'g')), ''), '(no reason recorded)') end as reason,
       count(*) as n
from outcomes
where (%(district)s::text is null or district_code = %(district)s)
  and (%(month)s::date is null or month = %(month)s)
group by 1, 2, 3
"""

TOP_REASONS = 3


def rule_precision(conn, district: str | None, month: date | None) -> dict[str, Any]:
    """Per rule (in catalogue order): the outcome counts, precision (0..1 or None), times to decision
    in hours and the most frequent dismissal reasons; plus the totals over every rule and the
    months that hold alerts. ``conn``: a connection inside the user's role (RLS applies)."""
    from supervision.review import catalogue as cat

    params = {"district": district, "month": month}
    by_rule = {r["rule_code"]: dict(r) for r in conn.execute(OUTCOMES_SQL, params).fetchall()}
    reasons: dict[str, list[tuple[str, int]]] = {}
    for r in conn.execute(REASONS_SQL, params).fetchall():
        reasons.setdefault(r["rule_code"], []).append((r["reason"], r["n"]))
    order = [c for c in cat.RULES if c in by_rule] + sorted(c for c in by_rule if c not in cat.RULES)
    rows = []
    for code in order:
        r = by_rule[code]
        decided = r["confirmed_alerts"] + r["dismissed_alerts"]
        r["decided_alerts"] = decided
        r["precision"] = r["confirmed_alerts"] / decided if decided else None
        r["reasons"] = reasons.get(code, [])[:TOP_REASONS]
        r["more_reasons"] = max(len(reasons.get(code, [])) - TOP_REASONS, 0)
        rows.append(r)
    keys = ("alerts", "open_alerts", "withdrawn_alerts", "confirmed_alerts", "resolved_alerts",
            "dismissed_alerts", "decided_alerts")
    total: dict[str, Any] = {k: sum(r[k] for r in rows) for k in keys}
    total["precision"] = total["confirmed_alerts"] / total["decided_alerts"] if total["decided_alerts"] else None
    months = [r["month"] for r in conn.execute(MONTHS_SQL, params).fetchall()]
    return {"rows": rows, "total": total, "months": months}


def risk_review_precision(conn, district: str | None, month: date | None) -> dict[str, Any] | None:
    """The risk review row (``RISK_REVIEW``) with the keys of a rule's row, or None when there is no
    finding to count or the scorecards are not built or not readable. ``district``: the user's own
    for a district user (the scorecards are not row-level secured), else the city user's choice."""
    import psycopg

    from supervision.review.risk_review import FLAG_POINTS, RISK_REVIEW

    try:
        with conn.transaction():
            rows = conn.execute(RISK_SQL, {"flag": FLAG_POINTS, "district": district, "month": month}).fetchall()
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn, psycopg.errors.InsufficientPrivilege):
        return None
    if not rows:
        return None
    n = {k: sum(r["n"] for r in rows if r["outcome"] == k) for k in ("open", "withdrawn", "confirmed", "dismissed")}
    merged: dict[str, int] = {}   # a reason's findings, flagged or not
    for r in rows:
        if r["outcome"] == "dismissed":
            merged[r["reason"]] = merged.get(r["reason"], 0) + r["n"]
    ordered = sorted(merged.items(), key=lambda x: (-x[1], x[0]))
    decided = n["confirmed"] + n["dismissed"]
    return {"rule_code": RISK_REVIEW, "alerts": sum(r["n"] for r in rows),
            "active_alerts": sum(r["n"] for r in rows if r["is_flagged"]), "open_alerts": n["open"],
            "withdrawn_alerts": n["withdrawn"], "confirmed_alerts": n["confirmed"], "resolved_alerts": 0,
            "dismissed_alerts": n["dismissed"], "decided_alerts": decided,
            "precision": n["confirmed"] / decided if decided else None, "timed_decisions": 0,
            "mean_hours_to_decision": None, "median_hours_to_decision": None,
            "reasons": ordered[:TOP_REASONS], "more_reasons": max(len(ordered) - TOP_REASONS, 0)}
