with

source as (

    select * from {{ source('raw_training', 'occupations') }}

),

renamed as (

    select
        occupation_code,
        name as occupation_name,
        category,
        is_urgent,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
