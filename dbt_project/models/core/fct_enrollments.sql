-- Enrollments with their class and the person behind the trainee id. The district is the class's
-- institution's.
-- Incremental per enrollment (macros/incremental_entities.sql): a run recomputes the enrollments
-- its loads reach (the enrollment, its trainee, class, the class's institution or occupation
-- reloaded); a full rebuild grew with every enrollment of the history.
-- _built_at: the build that wrote the row (the daily data tests read the latest build's).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ stage_recompute(['enrollments', 'trainees', 'classes', 'institutions', 'occupations'], enrollment_inputs_changed_sql(), ['enrollment_id'], indexed=true, unique_index='fct_enrollments_id_idx') }}",
    post_hook=[
        "{{ record_marks() }}",
        "create index if not exists fct_enrollments_built_at_idx on {{ this }} (_built_at)",
        "create unique index if not exists fct_enrollments_id_idx on {{ this }} (enrollment_id)",
        "create index if not exists fct_enrollments_trainee_idx on {{ this }} (trainee_id)",
        "create index if not exists fct_enrollments_class_idx on {{ this }} (class_id)",
        "create index if not exists fct_enrollments_institution_idx on {{ this }} (institution_id)",
        "create index if not exists fct_enrollments_occupation_idx on {{ this }} (occupation_code)",
        "create index if not exists fct_enrollments_person_idx on {{ this }} (person_key)",
    ],
) }}
{{ change_source_refs(['enrollments', 'trainees', 'classes', 'institutions', 'occupations']) }}

with

enrollments as (

    select * from {{ ref('stg_training__enrollments') }}
    {% if is_incremental() %}where enrollment_id = any(array{{ recompute_keys() }}){% endif %}

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
    enrollments.enrolled_at,
    {{ built_at_sql() }} as _built_at
from enrollments
left join classes on classes.class_id = enrollments.class_id
left join trainees on trainees.trainee_id = enrollments.trainee_id
