-- Why reviewers dismissed alerts as false positives: per rule, district, month of occurred_on and
-- reason, the alerts whose current status is dismissed, by the comment of the dismiss event that
-- stands (the latest dismiss event of the alert). Built after the alert upkeep.
-- The reason is the reviewer's free text, whitespace collapsed, and any run of 6 or more digits
-- (an ID number, a phone) masked as '***', so that the marts hold no plain identifier.
-- Rule code RISK_REVIEW: the risk findings (an institution or evaluation org in a month) whose
-- standing risk review verdict is dismissed, by that verdict's reason, per district and month of
-- the finding (as in marts.rule_precision).
{{ config(tags=['after_alerts']) }}

{%- set risk_code = 'RISK_REVIEW' %}

with

alerts as (

    select * from {{ ref('stg_alerts__supervision_alerts') }}
    where status = 'dismissed'

),

events as (

    select * from {{ ref('stg_review__alert_events') }}
    where action = 'dismiss'

),

standing_dismissals as (

    select distinct on (alert_id)
        alert_id,
        comment
    from events
    order by alert_id, acted_at desc, event_id desc

),

dismissed_findings as (

    select * from {{ ref('stg_review__risk_verdicts') }}
    where verdict = 'dismissed'

),

dismissals as (

    select
        alerts.rule_code,
        alerts.district_code,
        {{ local_month('alerts.occurred_on') }} as month,
        standing_dismissals.comment
    from alerts
    left join standing_dismissals on standing_dismissals.alert_id = alerts.alert_id

    union all

    select
        '{{ risk_code }}' as rule_code,
        district_code,
        month,
        comment
    from dismissed_findings

),

reasons as (

    select
        rule_code,
        district_code,
        month,
        coalesce(
            nullif(btrim(regexp_replace(regexp_replace(comment, '[0-9]{6,}[0-9Xx]?', '***', 'g'),
                                        '\s+', ' ', 'g')), ''),
            '(no reason recorded)'
        ) as reason
    from dismissals

)

select
    rule_code,
    district_code,
    month,
    reason,
    count(*) as dismissed_alerts
from reasons
group by rule_code, district_code, month, reason
