-- Exam results (latest delivery). Scores are numerics with trailing zeros trimmed, so 85 and
-- 85.0 are one value (RULES.md: "numbers compare as numbers").
with

results as (

    select * from {{ ref('stg_assessment__results') }}

),

exams as (

    select * from {{ ref('dim_exam_sessions') }}

)

select
    results.result_id,
    results.exam_id,
    results.person_key,
    results.id_masked,
    exams.org_id,
    exams.district_code,
    exams.occupation_code,
    results.passed_flag,
    exams.skill_level,
    results.theory_score,
    results.practical_score,
    results.is_pass,
    exams.exam_id is not null as is_exam_known,
    exams.starts_on as exam_starts_on,
    exams.starts_at as exam_starts_at,
    exams.ends_at as exam_ends_at,
    results.recorded_at
from results
left join exams on exams.exam_id = results.exam_id
