with

source as (

    select * from {{ source('raw_training', 'institution_occupations') }}

),

renamed as (

    select
        institution_id,
        occupation_code,
        approved_from,
        approved_to,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
