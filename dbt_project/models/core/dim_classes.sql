-- Classes with what rules and marts need of their institution and occupation. The district is
-- the class's institution's (RULES.md: claim, class and enrollment -> the class's institution).
with

classes as (

    select * from {{ ref('stg_training__classes') }}

),

institutions as (

    select * from {{ ref('stg_training__institutions') }}

),

occupations as (

    select * from {{ ref('stg_training__occupations') }}

)

select
    classes.class_id,
    classes.institution_id,
    classes.occupation_code,
    institutions.district_code,
    classes.programme,
    classes.status,
    occupations.category as occupation_category,
    classes.skill_level,
    classes.planned_hours,
    classes.is_subsidised,
    coalesce(occupations.is_urgent, false) as is_urgent_occupation,
    institutions.institution_id is not null as is_institution_known,
    classes.start_date,
    classes.end_date
from classes
left join institutions on institutions.institution_id = classes.institution_id
left join occupations on occupations.occupation_code = classes.occupation_code
