-- One row per exam session with its results (n, passes) and the ABNORMAL_PASS_RATE baseline:
-- the pooled results of the OTHER exam sessions of the same occupation_code and skill_level that
-- started in the pass_rate_baseline_days before it, i.e. starts_at in
-- [this.starts_at - 365 days, this.starts_at). "Before it" is read strictly: an exam starting at
-- the same instant is not before it. An exam without starts_at has no baseline.
with

exams as (

    select * from {{ ref('dim_exam_sessions') }}

),

results as (

    select * from {{ ref('fct_exam_results') }}

),

results_per_exam as (

    select
        exam_id,
        count(*) as results,
        count(*) filter (where is_pass) as passes
    from results
    group by exam_id

),

exams_with_results as (

    select
        exams.exam_id,
        exams.org_id,
        exams.district_code,
        exams.occupation_code,
        exams.skill_level,
        exams.starts_on,
        exams.starts_at,
        coalesce(results_per_exam.results, 0) as results,
        coalesce(results_per_exam.passes, 0) as passes
    from exams
    left join results_per_exam on results_per_exam.exam_id = exams.exam_id

),

-- One ordered pass per occupation and level (macros/pass_rate_baseline.sql), not a join of each
-- exam with every other exam of its year, which grew with the square of the exams in a year: 4.5 M
-- pairs after a quarter at city scale. An exam without starts_at, occupation or level has no
-- baseline.
baseline as (

    select
        exam_id,
        sum(results) over same_kind_year_before as baseline_results,
        sum(passes) over same_kind_year_before as baseline_passes
    from exams_with_results
    where starts_at is not null
      and occupation_code is not null
      and skill_level is not null
    window same_kind_year_before as ({{ pass_rate_baseline_window() }})

)

select
    exams_with_results.exam_id,
    exams_with_results.org_id,
    exams_with_results.district_code,
    exams_with_results.occupation_code,
    exams_with_results.skill_level,
    exams_with_results.results,
    exams_with_results.passes,
    exams_with_results.passes::numeric / nullif(exams_with_results.results, 0) as pass_rate,
    coalesce(baseline.baseline_results, 0) as baseline_results,
    coalesce(baseline.baseline_passes, 0) as baseline_passes,
    -- b is defined only where the pooled exams hold enough results (RULES.md)
    case when baseline.baseline_results >= {{ var('pass_rate_baseline_min_n') }}
        then baseline.baseline_passes::numeric / baseline.baseline_results
    end as baseline_pass_rate,
    exams_with_results.starts_on,
    exams_with_results.starts_at
from exams_with_results
left join baseline on baseline.exam_id = exams_with_results.exam_id
