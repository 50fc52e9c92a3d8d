-- Exam sessions (latest delivery) with their evaluation org's district (RULES.md: exam, result
-- and assessor_exams alerts go to the exam's evaluation org).
with

exams as (

    select * from {{ ref('stg_assessment__exam_sessions') }}

),

orgs as (

    select * from {{ ref('stg_assessment__evaluation_orgs') }}

)

select
    exams.exam_id,
    exams.org_id,
    exams.occupation_code,
    orgs.district_code,
    -- ';'-separated text, as delivered (考評員): BI tools and dbt unit tests handle text better than arrays
    array_to_string(exams.assessor_ids, ';') as assessor_ids,
    exams.skill_level,
    exams.registered,
    exams.starts_on,
    exams.starts_at,
    exams.ends_at,
    exams.delivery_date
from exams
left join orgs on orgs.org_id = exams.org_id
