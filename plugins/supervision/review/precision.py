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
       round(avg(hours)::numeric, 2) as mean_hours_to_decision,
       round((percentile_cont(0.5) within group (order by hours))::numeric, 2) as median_hours_to_decision
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
