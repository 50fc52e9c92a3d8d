-- Why reviewers dismissed alerts as false positives: per rule, district, month of occurred_on and
-- reason, the alerts whose current status is dismissed, by the comment of the dismiss event that
-- stands (the latest dismiss event of the alert). Built after the alert upkeep.
-- The reason is the reviewer's free text, whitespace collapsed, and any run of 6 or more digits
-- (an ID number, a phone) masked as '***', so that the marts hold no plain identifier.
{{ config(tags=['after_alerts']) }}

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

reasons as (

    select
        alerts.rule_code,
        alerts.district_code,
        {{ local_month('alerts.occurred_on') }} as month,
        coalesce(
            nullif(btrim(regexp_replace(regexp_replace(standing_dismissals.comment, '[0-9]{6,}[0-9Xx]?', '***', 'g'),
                                        '\s+', ' ', 'g')), ''),
            '(no reason recorded)'
        ) as reason
    from alerts
    left join standing_dismissals on standing_dismissals.alert_id = alerts.alert_id

)

select
    rule_code,
    district_code,
    month,
    reason,
    count(*) as dismissed_alerts
from reasons
group by rule_code, district_code, month, reason
