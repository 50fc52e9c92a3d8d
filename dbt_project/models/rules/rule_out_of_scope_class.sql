-- OUT_OF_SCOPE_CLASS (RULES.md): a class not cancelled whose start_date is outside its
-- institution's licence period (license_valid_from <= start_date <= license_valid_to, both
-- inclusive), or for which no institution_occupations row of the institution and occupation has
-- approved_from <= start_date <= approved_to. Latest versions (not the history). A class whose
-- institution is unknown has no district to go to and does not fire.
-- occurred_on: the class's start_date.
with

classes as (

    select * from {{ ref('dim_classes') }}
    where status <> 'cancelled'
      and is_institution_known

),

institutions as (

    select * from {{ ref('dim_institutions') }}

),

approved_scope as (

    select * from {{ ref('stg_training__institution_occupations') }}

),

classes_checked as (

    select
        classes.class_id,
        classes.district_code,
        classes.start_date,
        classes.occupation_code,
        institutions.license_valid_from,
        institutions.license_valid_to,
        classes.start_date not between institutions.license_valid_from and institutions.license_valid_to
            as is_outside_licence,
        not exists (
            select 1 from approved_scope
            where approved_scope.institution_id = classes.institution_id
              and approved_scope.occupation_code = classes.occupation_code
              and approved_scope.approved_from <= classes.start_date
              and classes.start_date <= approved_scope.approved_to
        ) as is_outside_approved_scope
    from classes
    join institutions on institutions.institution_id = classes.institution_id

)

select
    'OUT_OF_SCOPE_CLASS'::text as rule_code,
    'class'::text as entity_type,
    class_id as entity_key,
    district_code,
    start_date as occurred_on,
    jsonb_build_object(
        'start_date', start_date,
        'license_valid_from', license_valid_from,
        'license_valid_to', license_valid_to,
        'outside_licence', is_outside_licence,
        'occupation_code', occupation_code,
        'outside_approved_scope', is_outside_approved_scope
    ) as evidence
from classes_checked
where (is_outside_licence or is_outside_approved_scope)
  and district_code is not null
