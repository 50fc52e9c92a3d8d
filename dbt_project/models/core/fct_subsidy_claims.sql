-- Subsidy claims (latest version) with the enrollment, class and person they rest on. Unknown
-- enrollments / classes / trainees leave the joined columns null (rules then do not fire on the
-- clauses that need them, RULES.md "Terms").
with

claims as (

    select * from {{ ref('stg_training__subsidy_claims') }}

),

enrollments as (

    select * from {{ ref('stg_training__enrollments') }}

),

classes as (

    select * from {{ ref('dim_classes') }}

),

trainees as (

    select * from {{ ref('stg_training__trainees') }}

)

select
    claims.claim_id,
    claims.enrollment_id,
    claims.trainee_id,
    trainees.person_key,
    enrollments.trainee_id as enrollment_trainee_id,
    enrollments.class_id,
    classes.institution_id,
    classes.district_code,
    claims.certificate_no,
    classes.occupation_code,
    claims.status,
    classes.skill_level,
    classes.planned_hours,
    claims.amount_cny,
    claims.is_live,
    classes.end_date as class_end_date,
    claims.claimed_on,
    claims.claimed_at
from claims
left join enrollments on enrollments.enrollment_id = claims.enrollment_id
left join classes on classes.class_id = enrollments.class_id
left join trainees on trainees.trainee_id = claims.trainee_id
