with

source as (

    select * from {{ source('raw_training', 'sessions') }}

),

renamed as (

    select
        session_id,
        class_id,
        site_id,
        delivery,
        status,
        status = 'held' and delivery = 'onsite' as is_held_onsite,
        starts_at,
        ends_at,
        {{ local_date('starts_at') }} as starts_on,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
