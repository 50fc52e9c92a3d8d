with

source as (

    select * from {{ source('raw_assessment', 'certificates') }}

),

renamed as (

    select
        certificate_no,
        nullif(trim(result_id), '') as result_id,
        person_key,
        id_masked,
        org_id,
        occupation_code,
        skill_level,
        issued_on,
        delivery_date,
        _loaded_at
    from source

)

select * from renamed
