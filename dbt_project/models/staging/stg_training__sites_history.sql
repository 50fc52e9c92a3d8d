with

source as (

    select * from {{ source('raw_training', 'sites_history') }}

),

renamed as (

    select
        site_id,
        institution_id,
        district_code,
        address,
        registered as is_registered,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
