with

source as (

    select * from {{ source('raw_assessment', 'exam_results') }}

),

renamed as (

    select
        result_id,
        exam_id,
        person_key,
        id_masked,
        passed as passed_flag,
        trim_scale(theory_score) as theory_score,
        trim_scale(practical_score) as practical_score,
        passed = '合格' as is_pass,
        id_format_ok,
        id_check_ok,
        id_birth_date,
        recorded_at,
        delivery_date,
        _loaded_at
    from source

)

select * from renamed
