-- Verdicts that count: per rule, district and month of occurred_on, what reviewers made of the
-- alerts (issue 16, item 5). Read from the alert table (current review status) and the review
-- audit trail (when the standing decision was taken). Built after the alert upkeep.
--
-- Every alert falls in exactly one outcome:
--     confirmed  status confirmed or resolved (a true finding; resolved_alerts counts the resolved ones)
--     dismissed  status dismissed (a false positive; the reasons are in marts.rule_dismissal_reasons)
--     open       status open and still active (awaiting a decision)
--     withdrawn  status open and no longer active (the source was corrected before anyone decided)
-- precision_pct = confirmed / (confirmed + dismissed) x 100, null before any decision.
-- Time to decision: from the alert's first detection to the audit event that set its current status
-- (the latest confirm / dismiss / resolve event whose to_status is that status); a decided alert
-- without such an event has no time and is left out of the averages.
-- Only rule x district x month combinations that hold an alert have a row.
--
-- One more row family, rule_code RISK_REVIEW: the supervisors' verdicts on risk findings (a
-- training institution or an evaluation org in a month, as the review application's risk page shows
-- it; docs/RISK.md, "Risk review"), per district and month of the finding, with the same outcomes:
--     confirmed  standing verdict confirmed (gaming found)
--     dismissed  standing verdict dismissed (no gaming; the reasons are in marts.rule_dismissal_reasons)
--     open       no verdict (or reopened) and the finding is flagged: evidence_score >= risk_flag_points
--                in its scorecard, the line at which the risk models call an institution flagged
--     withdrawn  reopened, and its evidence no longer reaches that line
-- The findings counted are the flagged ones and those with a verdict (a verdict on an entity below
-- the line counts too). "alerts" counts these findings, "active_alerts" the flagged ones. A finding
-- has no detection time: resolved_alerts and timed_decisions are 0, the hours null, severity null.
{{ config(tags=['after_alerts']) }}

{%- set risk_code = 'RISK_REVIEW' %}
{%- set flag_points = var('risk_flag_points', 5) %}

with

alerts as (

    select * from {{ ref('stg_alerts__supervision_alerts') }}

),

events as (

    select * from {{ ref('stg_review__alert_events') }}

),

rules as (

    select * from {{ ref('rule_catalogue') }}

),

standing_decisions as (

    select distinct on (events.alert_id)
        events.alert_id,
        events.acted_at as decided_at
    from events
    join alerts
        on alerts.alert_id = events.alert_id
        and alerts.status = events.to_status
    where events.action in ('confirm', 'dismiss', 'resolve')
    order by events.alert_id, events.acted_at desc, events.event_id desc

),

alert_outcomes as (

    select
        alerts.alert_id,
        alerts.rule_code,
        alerts.severity,
        alerts.district_code,
        {{ local_month('alerts.occurred_on') }} as month,
        alerts.is_active,
        alerts.status,
        case
            when alerts.status in ('confirmed', 'resolved') then 'confirmed'
            when alerts.status = 'dismissed' then 'dismissed'
            when alerts.is_active then 'open'
            else 'withdrawn'
        end as outcome,
        case
            when alerts.status in ('confirmed', 'resolved', 'dismissed')
                then extract(epoch from standing_decisions.decided_at - alerts.first_detected_at) / 3600.0
        end as hours_to_decision
    from alerts
    left join standing_decisions on standing_decisions.alert_id = alerts.alert_id

),

risk_scorecards as (

    select
        'institution' as entity_type,
        institution_id as entity_id,
        district_code,
        month,
        coalesce(evidence_score, 0) >= {{ flag_points }} as is_flagged
    from {{ ref('institution_scorecard') }}

    union all

    select
        'evaluation_org' as entity_type,
        org_id as entity_id,
        district_code,
        month,
        coalesce(evidence_score, 0) >= {{ flag_points }} as is_flagged
    from {{ ref('evaluation_org_quality') }}

),

risk_verdicts as (

    select * from {{ ref('stg_review__risk_verdicts') }}

),

risk_finding_outcomes as (

    select
        coalesce(risk_verdicts.district_code, risk_scorecards.district_code) as district_code,
        coalesce(risk_verdicts.month, risk_scorecards.month) as month,
        coalesce(risk_scorecards.is_flagged, false) as is_flagged,
        case
            when risk_verdicts.verdict in ('confirmed', 'dismissed') then risk_verdicts.verdict
            when risk_scorecards.is_flagged then 'open'
            else 'withdrawn'
        end as outcome
    from risk_scorecards
    full join risk_verdicts
        on risk_verdicts.entity_type = risk_scorecards.entity_type
        and risk_verdicts.entity_id = risk_scorecards.entity_id
        and risk_verdicts.month = risk_scorecards.month
    where risk_verdicts.entity_id is not null or risk_scorecards.is_flagged

),

risk_per_district_month as (

    select
        '{{ risk_code }}' as rule_code,
        district_code,
        month,
        null::text as severity,
        count(*) as alerts,
        count(*) filter (where is_flagged) as active_alerts,
        count(*) filter (where outcome = 'open') as open_alerts,
        count(*) filter (where outcome = 'withdrawn') as withdrawn_alerts,
        count(*) filter (where outcome = 'confirmed') as confirmed_alerts,
        0::bigint as resolved_alerts,
        count(*) filter (where outcome = 'dismissed') as dismissed_alerts,
        0::bigint as timed_decisions,
        null::numeric as mean_hours_to_decision,
        null::double precision as median_hours_to_decision,
        null::numeric as max_hours_to_decision
    from risk_finding_outcomes
    group by district_code, month

),

per_rule_district_month as (

    select
        rule_code,
        district_code,
        month,
        max(severity) as severity,
        count(*) as alerts,
        count(*) filter (where is_active) as active_alerts,
        count(*) filter (where outcome = 'open') as open_alerts,
        count(*) filter (where outcome = 'withdrawn') as withdrawn_alerts,
        count(*) filter (where outcome = 'confirmed') as confirmed_alerts,
        count(*) filter (where status = 'resolved') as resolved_alerts,
        count(*) filter (where outcome = 'dismissed') as dismissed_alerts,
        count(hours_to_decision) as timed_decisions,
        avg(hours_to_decision) as mean_hours_to_decision,
        percentile_cont(0.5) within group (order by hours_to_decision) as median_hours_to_decision,
        max(hours_to_decision) as max_hours_to_decision
    from alert_outcomes
    group by rule_code, district_code, month

    union all

    select * from risk_per_district_month

)

select
    per_rule_district_month.rule_code,
    case when per_rule_district_month.rule_code = '{{ risk_code }}' then '风险复核'
        else rules.label_zh end as rule_label_zh,
    case when per_rule_district_month.rule_code = '{{ risk_code }}' then 'Risk review'
        else rules.label_en end as rule_label_en,
    per_rule_district_month.severity,
    per_rule_district_month.district_code,
    per_rule_district_month.month,
    per_rule_district_month.alerts,
    per_rule_district_month.active_alerts,
    per_rule_district_month.open_alerts,
    per_rule_district_month.withdrawn_alerts,
    per_rule_district_month.confirmed_alerts,
    per_rule_district_month.resolved_alerts,
    per_rule_district_month.dismissed_alerts,
    per_rule_district_month.confirmed_alerts + per_rule_district_month.dismissed_alerts as decided_alerts,
    round(100.0 * per_rule_district_month.confirmed_alerts
          / nullif(per_rule_district_month.confirmed_alerts + per_rule_district_month.dismissed_alerts, 0), 2)
        as precision_pct,
    per_rule_district_month.timed_decisions,
    round(per_rule_district_month.mean_hours_to_decision::numeric, 2) as mean_hours_to_decision,
    round(per_rule_district_month.median_hours_to_decision::numeric, 2) as median_hours_to_decision,
    round(per_rule_district_month.max_hours_to_decision::numeric, 2) as max_hours_to_decision
from per_rule_district_month
left join rules on rules.rule_code = per_rule_district_month.rule_code
