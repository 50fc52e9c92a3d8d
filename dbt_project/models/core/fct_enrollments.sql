-- Enrollments with their class and the person behind the trainee id. The district is the class's
-- institution's.
with

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
    enrollments.enrollment_id,
    enrollments.class_id,
    enrollments.trainee_id,
    trainees.person_key,
    classes.institution_id,
    classes.district_code,
    classes.occupation_code,
    classes.programme,
    classes.occupation_category,
    enrollments.status,
    classes.skill_level,
    classes.is_subsidised,
    enrollments.status = 'completed' as is_completed,
    enrollments.completed_on,
    enrollments.enrolled_at
from enrollments
left join classes on classes.class_id = enrollments.class_id
left join trainees on trainees.trainee_id = enrollments.trainee_id
