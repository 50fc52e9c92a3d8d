with

source as (

    select * from {{ source('raw_training', 'classes') }}

),

renamed as (

    select
        class_id,
        institution_id,
        occupation_code,
        programme,
        status,
        skill_level,
        planned_hours,
        subsidised as is_subsidised,
        start_date,
        end_date,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
