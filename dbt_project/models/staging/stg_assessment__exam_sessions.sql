with

source as (

    select * from {{ source('raw_assessment', 'exam_sessions') }}

),

renamed as (

    select
        exam_id,
        org_id,
        occupation_code,
        assessor_ids,
        skill_level,
        registered,
        starts_at,
        ends_at,
        {{ local_date('starts_at') }} as starts_on,
        delivery_date,
        _loaded_at
    from source

)

select * from renamed
