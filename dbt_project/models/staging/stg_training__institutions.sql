with

source as (

    select * from {{ source('raw_training', 'institutions') }}

),

renamed as (

    select
        institution_id,
        credit_code,
        name as institution_name,
        kind,
        district_code,
        license_valid_from,
        license_valid_to,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
