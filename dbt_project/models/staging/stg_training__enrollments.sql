with

source as (

    select * from {{ source('raw_training', 'enrollments') }}

),

renamed as (

    select
        enrollment_id,
        class_id,
        trainee_id,
        status,
        completed_on,
        enrolled_at,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
