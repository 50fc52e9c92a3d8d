with

source as (

    select * from {{ source('raw_training', 'cameras') }}

),

renamed as (

    select
        camera_id,
        site_id,
        installed_on,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
