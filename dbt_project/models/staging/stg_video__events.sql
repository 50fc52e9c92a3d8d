with

source as (

    select * from {{ source('raw_video', 'events') }}

),

renamed as (

    select
        event_id,
        camera_id,
        trainee_id,
        type as event_type,
        state,
        count as headcount,
        score as face_score,
        ts as event_at,
        local_date,
        file_id,
        line_no,
        _loaded_at
    from source

)

select * from renamed
