-- Trainees by pseudonym: person_key is the keyed pseudonym of the resident ID number
-- ("same person" in RULES.md); the plain number never reaches the warehouse's readable schemas.
-- district_code follows RULES.md for trainee alerts: the institution of the trainee's earliest
-- enrollment, else 310000 (the city). first_enrollment_id: that enrollment.
-- Incremental per trainee (macros/incremental_entities.sql): a run recomputes the trainees its
-- loads reach; a full rebuild grew with every trainee of the history.
-- _built_at: the build that wrote the row (the daily data tests read the latest build's).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ stage_recompute(['trainees', 'enrollments', 'classes', 'institutions'], trainee_inputs_changed_sql(), ['trainee_id'], indexed=true, unique_index='dim_trainees_id_idx') }}",
    post_hook=[
        "{{ record_marks() }}",
        "create index if not exists dim_trainees_built_at_idx on {{ this }} (_built_at)",
        "create unique index if not exists dim_trainees_id_idx on {{ this }} (trainee_id)",
        "create index if not exists dim_trainees_first_enrollment_idx on {{ this }} (first_enrollment_id)",
    ],
) }}
{{ change_source_refs(['trainees', 'enrollments', 'classes', 'institutions']) }}

with

trainees as (

    select * from {{ ref('stg_training__trainees') }}
    {% if is_incremental() %}where trainee_id = any(array{{ recompute_keys() }}){% endif %}

),

enrollments as (

    select * from {{ ref('stg_training__enrollments') }}
    {% if is_incremental() %}where trainee_id = any(array{{ recompute_keys() }}){% endif %}

),

classes as (

    select * from {{ ref('stg_training__classes') }}

),

institutions as (

    select * from {{ ref('stg_training__institutions') }}

),

earliest_enrollment as (

    select distinct on (enrollments.trainee_id)
        enrollments.trainee_id,
        enrollments.enrollment_id,
        institutions.institution_id,
        institutions.district_code
    from enrollments
    join classes on classes.class_id = enrollments.class_id
    join institutions on institutions.institution_id = classes.institution_id
    order by enrollments.trainee_id, enrollments.enrolled_at, enrollments.enrollment_id

)

select
    trainees.trainee_id,
    trainees.person_key,
    trainees.id_masked,
    earliest_enrollment.institution_id as first_institution_id,
    earliest_enrollment.enrollment_id as first_enrollment_id,
    coalesce(earliest_enrollment.district_code, '310000') as district_code,
    trainees.gender,
    trainees.id_format_ok,
    trainees.id_check_ok,
    trainees.has_phone,
    trainees.birth_date,
    trainees.id_birth_date,
    {{ built_at_sql() }} as _built_at
from trainees
left join earliest_enrollment on earliest_enrollment.trainee_id = trainees.trainee_id
