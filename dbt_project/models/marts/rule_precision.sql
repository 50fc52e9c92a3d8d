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
{{ config(tags=['after_alerts']) }}

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

)

select
    per_rule_district_month.rule_code,
    rules.label_zh as rule_label_zh,
    rules.label_en as rule_label_en,
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
