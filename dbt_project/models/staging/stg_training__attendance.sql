with

source as (

    select * from {{ source('raw_training', 'attendance') }}

),

renamed as (

    select
        attendance_id,
        session_id,
        trainee_id,
        device_id,
        event,
        method,
        face_score,
        captured_at,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
