-- ABNORMAL_PASS_RATE (RULES.md): an exam session with n >= 20 results and pass rate p >= 0.95,
-- where p - b >= 0.25; b is the pooled pass rate of the results of the other exam sessions of the
-- same occupation and level that started in the 365 days before it, counted only where those hold
-- >= 100 results (otherwise the rule does not fire). n, p and b come from
-- int_exams_joined_to_pass_rate_baseline. Compared exactly (cross-multiplied integers, no
-- rounded division): p >= 0.95  <=>  passes >= 0.95 n;  p - b >= 0.25  <=>
-- passes * bn - bpasses * n >= 0.25 * n * bn. occurred_on: local date the exam starts.
with

exams as (

    select * from {{ ref('int_exams_joined_to_pass_rate_baseline') }}

),

exams_with_enough_results as (

    select * from exams
    where results >= {{ var('pass_rate_min_n') }}
      and baseline_results >= {{ var('pass_rate_baseline_min_n') }}

),

abnormal_exams as (

    select * from exams_with_enough_results
    where passes >= {{ var('pass_rate_min') }} * results
      and passes * baseline_results - baseline_passes * results
          >= {{ var('pass_rate_excess') }} * results * baseline_results

)

select
    'ABNORMAL_PASS_RATE'::text as rule_code,
    'exam'::text as entity_type,
    exam_id as entity_key,
    district_code,
    starts_on as occurred_on,
    jsonb_build_object(
        'results', results,
        'passes', passes,
        'pass_rate', round(pass_rate, 4),
        'baseline_results', baseline_results,
        'baseline_passes', baseline_passes,
        'baseline_pass_rate', round(baseline_pass_rate, 4)
    ) as evidence
from abnormal_exams
where district_code is not null
