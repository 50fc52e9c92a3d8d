-- One row per evaluation org and month of exam start (MARTS.md): exams, candidates, pass rate,
-- the ABNORMAL_PASS_RATE baseline where defined (pooled over the month's exams that have one),
-- and the org's active alerts by month of occurred_on. Built after the alert upkeep.
-- The org's pass rate pools all its exams of the month; abnormal_exam_* pool only the exams with an
-- active ABNORMAL_PASS_RATE alert (the figures the rule compared), which the org-wide rate dilutes.
-- The month axis is int_months_holding_data: the months the sources hold data for. Exams scheduled
-- later, and alerts dated on them, are counted once the data reaches their month.
-- risk_score (docs/RISK.md; higher = worse), as for institutions, per 100 results in place of 10
-- sessions (most org alerts are about a result or a certificate, and exams vary 10-40 in size):
--     rule_score = (10 x alerts_high + 3 x alerts_medium + alerts_low) x 100 / max(candidates, 100)
--     risk_score = min(rule_score, risk_flag_points) + evidence_score (core.fct_risk_scores)
-- grade, from both parts in full: rule_score + evidence_score < 2 A, < 5 B, < 10 C, else D
-- (decision 0048: the ranking caps the alerts at the flag line, the grade does not; macros/risk_score.sql).
{{ config(tags=['after_alerts']) }}

with

orgs as (

    select * from {{ ref('dim_evaluation_orgs') }}

),

exams as (

    select * from {{ ref('int_exams_joined_to_pass_rate_baseline') }}
    where starts_on is not null

),

alerts as (

    select * from {{ ref('int_alerts_joined_to_owners') }}
    where org_id is not null

),

exams_per_month as (

    select
        org_id,
        {{ local_month('starts_on') }} as month,
        count(*) as exams,
        sum(results) as candidates,
        sum(passes) as passes,
        sum(baseline_passes) filter (where baseline_pass_rate is not null) as baseline_passes,
        sum(baseline_results) filter (where baseline_pass_rate is not null) as baseline_results
    from exams
    group by 1, 2

),

alerts_per_month as (

    select
        org_id,
        occurred_month as month,
        count(*) filter (where severity = 'high') as alerts_high,
        count(*) filter (where severity = 'medium') as alerts_medium,
        count(*) filter (where severity = 'low') as alerts_low,
        count(*) filter (where rule_code = 'ABNORMAL_PASS_RATE') as abnormal_pass_rate_alerts
    from alerts
    group by 1, 2

),

abnormal_exams_per_month as (

    select
        exams.org_id,
        {{ local_month('exams.starts_on') }} as month,
        sum(exams.results) as candidates,
        sum(exams.passes) as passes,
        sum(exams.baseline_passes) as baseline_passes,
        sum(exams.baseline_results) as baseline_results
    from exams
    where exams.exam_id in (
        select entity_key from alerts where rule_code = 'ABNORMAL_PASS_RATE' and entity_type = 'exam'
    )
    group by 1, 2

),

months as (

    select month from {{ ref('int_months_holding_data') }}

),

risk as (

    select
        orgs.org_id,
        months.month,
        round((10 * coalesce(alerts_per_month.alerts_high, 0) + 3 * coalesce(alerts_per_month.alerts_medium, 0)
               + coalesce(alerts_per_month.alerts_low, 0)) * 100.0 / greatest(coalesce(exams_per_month.candidates, 0), 100), 2)
            as rule_score,
        coalesce(evidence.evidence_points, 0) as evidence_score
    from orgs
    cross join months
    left join exams_per_month on exams_per_month.org_id = orgs.org_id and exams_per_month.month = months.month
    left join alerts_per_month on alerts_per_month.org_id = orgs.org_id and alerts_per_month.month = months.month
    left join {{ ref('fct_risk_scores') }} as evidence
        on evidence.entity_type = 'evaluation_org' and evidence.entity_id = orgs.org_id and evidence.month = months.month

)

select
    orgs.org_id,
    orgs.district_code,
    orgs.kind_code,
    months.month,
    coalesce(exams_per_month.exams, 0) as exams,
    coalesce(exams_per_month.candidates, 0) as candidates,
    coalesce(exams_per_month.passes, 0) as passes,
    round(exams_per_month.passes::numeric / nullif(exams_per_month.candidates, 0), 4) as pass_rate,
    round(exams_per_month.baseline_passes::numeric / nullif(exams_per_month.baseline_results, 0), 4)
        as baseline_pass_rate,
    coalesce(alerts_per_month.abnormal_pass_rate_alerts, 0) as abnormal_pass_rate_alerts,
    coalesce(abnormal_exams_per_month.candidates, 0) as abnormal_exam_candidates,
    round(abnormal_exams_per_month.passes::numeric / nullif(abnormal_exams_per_month.candidates, 0), 4)
        as abnormal_exam_pass_rate,
    round(abnormal_exams_per_month.baseline_passes::numeric / nullif(abnormal_exams_per_month.baseline_results, 0), 4)
        as abnormal_exam_baseline_pass_rate,
    coalesce(alerts_per_month.alerts_high, 0) as alerts_high,
    coalesce(alerts_per_month.alerts_medium, 0) as alerts_medium,
    coalesce(alerts_per_month.alerts_low, 0) as alerts_low,
    risk.rule_score,
    risk.evidence_score,
    {{ risk_score_sql('risk.rule_score', 'risk.evidence_score') }} as risk_score,
    {{ risk_grade_sql('risk.rule_score', 'risk.evidence_score') }} as grade
from orgs
cross join months
left join exams_per_month
    on exams_per_month.org_id = orgs.org_id
    and exams_per_month.month = months.month
left join alerts_per_month
    on alerts_per_month.org_id = orgs.org_id
    and alerts_per_month.month = months.month
left join abnormal_exams_per_month
    on abnormal_exams_per_month.org_id = orgs.org_id
    and abnormal_exams_per_month.month = months.month
left join risk
    on risk.org_id = orgs.org_id
    and risk.month = months.month
