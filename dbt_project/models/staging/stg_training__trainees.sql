with

source as (

    select * from {{ source('raw_training', 'trainees') }}

),

renamed as (

    select
        trainee_id,
        person_key,
        id_masked,
        gender,
        id_format_ok,
        id_check_ok,
        has_phone,
        id_birth_date,
        birth_date,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
