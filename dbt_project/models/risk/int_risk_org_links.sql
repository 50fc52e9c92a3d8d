-- One row per (evaluation org, month of exam start) with results: the feature
-- org_candidates_from_flagged (family shared, docs/RISK.md): of the org's results, those whose
-- candidate (same person, by person_key) enrolled in the 365 days before the exam at an
-- institution flagged by its own evidence (evidence points >= risk_flag_points in the exam's
-- month or the month before). An org that certifies the trainees of gaming institutions.
-- Points = min(risk_feature_max_points, 10 x k / n): a share, not a peer z (its peers are the
-- institutions' scores). Shaped like fct_risk_features; incremental by month like it.
-- depends_on: {{ ref('dim_exam_sessions') }}
{%- set first_month = risk_first_month("(select max(starts_on) from " ~ ref('dim_exam_sessions') ~ ")") %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='month',
    schema='intermediate',
    on_schema_change='append_new_columns',
) }}

{%- set flag_points = var('risk_flag_points', 5) %}
{%- set max_points = var('risk_feature_max_points', 5) %}

with

flagged as (

    select entity_id as institution_id, month
    from {{ ref('fct_risk_features') }}
    where entity_type = 'institution'
      and month >= ({{ first_month }} - interval '1 month')
    group by entity_id, month
    having sum(points) >= {{ flag_points }}

),

results as (

    select result_id, org_id, person_key, exam_starts_at, {{ local_month('exam_starts_on') }} as month
    from {{ ref('fct_exam_results') }}
    where org_id is not null
      and person_key is not null
      and exam_starts_on >= ({{ first_month }})

),

trained_at_flagged as (

    select distinct results.result_id, enrollments.institution_id
    from results
    join {{ ref('fct_enrollments') }} as enrollments
        on enrollments.person_key = results.person_key
        and enrollments.enrolled_at >= results.exam_starts_at - interval '365 days'
        and enrollments.enrolled_at < results.exam_starts_at
    join flagged
        on flagged.institution_id = enrollments.institution_id
        and flagged.month between (results.month - interval '1 month')::date and results.month

),

per_org as (

    select
        results.org_id,
        results.month,
        count(distinct results.result_id) filter (where trained_at_flagged.result_id is not null) as k,
        count(distinct results.result_id) as n,
        coalesce(jsonb_agg(distinct trained_at_flagged.institution_id)
            filter (where trained_at_flagged.institution_id is not null), '[]'::jsonb) as evidence_records
    from results
    left join trained_at_flagged on trained_at_flagged.result_id = results.result_id
    group by results.org_id, results.month

)

select
    'evaluation_org' as entity_type,
    org_id as entity_id,
    month,
    'org_candidates_from_flagged' as feature_code,
    'shared' as family,
    'institution' as record_type,
    k::numeric as k,
    n::numeric as n,
    round(k::numeric / n, 4) as raw_value,
    round(k::numeric / n, 4) as value,
    round(least(10.0 * k / n, {{ max_points }}), 2) as points,
    evidence_records
from per_org
where n > 0
