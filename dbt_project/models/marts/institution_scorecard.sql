-- One row per training institution and month (MARTS.md): the figures behind the periodic
-- quality and integrity grading of training institutions. Built after the alert upkeep.
--
-- risk_score (documented formula, docs/RISK.md; higher = worse):
--     alert_points    = 10 x alerts_high + 3 x alerts_medium + 1 x alerts_low
--     rule_score      = alert_points x 10 / max(sessions_held, 10)   -- alert points per 10 sessions
--                     + (100 - camera_coverage_pct) / 10               -- 1 point per 10% uncovered (0 if no onsite minutes)
--     evidence_score  = the month's evidence points beyond the rules (core.fct_risk_scores)
--     risk_score      = min(rule_score, risk_flag_points) + evidence_score   -- risk_flag_points = 5
-- grade, from both parts in full: rule_score + evidence_score < 2 A, < 5 B, < 10 C, else D.
-- risk_score orders the review: alerts count up to the flag line, so an entity whose evidence
-- reaches the line ranks at or above every entity with alerts alone; the grade judges the month's
-- record, and many alerts (rule_score >= 10) are a D whatever the evidence (decision 0048;
-- macros/risk_score.sql).
-- The month axis is int_months_holding_data: the months the sources hold data for. Alerts dated
-- later (on a class that has not started yet) are counted once the data reaches their month.
{{ config(tags=['after_alerts']) }}

with

institutions as (

    select * from {{ ref('dim_institutions') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}
    where is_held
      and institution_id is not null

),

coverage as (

    select * from {{ ref('fct_session_video_coverage') }}

),

alerts as (

    select * from {{ ref('int_alerts_joined_to_owners') }}
    where institution_id is not null

),

sessions_per_month as (

    select
        sessions.institution_id,
        {{ local_month('sessions.starts_on') }} as month,
        count(*) as sessions_held,
        count(*) filter (where sessions.is_held_onsite) as onsite_sessions_held,
        sum(coverage.minutes_total) filter (where sessions.is_held_onsite) as onsite_minutes,
        sum(coverage.minutes_covered) filter (where sessions.is_held_onsite) as covered_minutes
    from sessions
    left join coverage on coverage.session_id = sessions.session_id
    group by 1, 2

),

alerts_per_month as (

    select
        institution_id,
        occurred_month as month,
        count(*) filter (where severity = 'high') as alerts_high,
        count(*) filter (where severity = 'medium') as alerts_medium,
        count(*) filter (where severity = 'low') as alerts_low
    from alerts
    group by 1, 2

),

months as (

    select month, is_latest from {{ ref('int_months_holding_data') }}

),

scorecard as (

    select
        institutions.institution_id,
        institutions.district_code,
        months.month,
        months.is_latest as is_latest_month,
        coalesce(sessions_per_month.sessions_held, 0) as sessions_held,
        coalesce(sessions_per_month.onsite_sessions_held, 0) as onsite_sessions_held,
        coalesce(sessions_per_month.onsite_minutes, 0) as onsite_minutes,
        round(100.0 * sessions_per_month.covered_minutes / nullif(sessions_per_month.onsite_minutes, 0), 2)
            as camera_coverage_pct,
        coalesce(alerts_per_month.alerts_high, 0) as alerts_high,
        coalesce(alerts_per_month.alerts_medium, 0) as alerts_medium,
        coalesce(alerts_per_month.alerts_low, 0) as alerts_low
    from institutions
    cross join months
    left join sessions_per_month
        on sessions_per_month.institution_id = institutions.institution_id
        and sessions_per_month.month = months.month
    left join alerts_per_month
        on alerts_per_month.institution_id = institutions.institution_id
        and alerts_per_month.month = months.month

),

rule_scored as (

    select
        *,
        round(
            (10 * alerts_high + 3 * alerts_medium + alerts_low) * 10.0 / greatest(sessions_held, 10)
            + coalesce(100 - camera_coverage_pct, 0) / 10.0,
            2) as rule_score
    from scorecard

),

scored as (

    select
        rule_scored.*,
        coalesce(evidence.evidence_points, 0) as evidence_score,
        {{ risk_score_sql('rule_scored.rule_score', 'coalesce(evidence.evidence_points, 0)') }} as risk_score,
        {{ risk_grade_sql('rule_scored.rule_score', 'coalesce(evidence.evidence_points, 0)') }} as grade
    from rule_scored
    left join {{ ref('fct_risk_scores') }} as evidence
        on evidence.entity_type = 'institution'
        and evidence.entity_id = rule_scored.institution_id
        and evidence.month = rule_scored.month

)

select
    institution_id,
    district_code,
    month,
    sessions_held,
    onsite_sessions_held,
    onsite_minutes,
    camera_coverage_pct,
    alerts_high,
    alerts_medium,
    alerts_low,
    rule_score,
    evidence_score,
    risk_score,
    grade,
    is_latest_month
from scored
