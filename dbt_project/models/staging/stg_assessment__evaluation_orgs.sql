with

source as (

    select * from {{ source('raw_assessment', 'evaluation_orgs') }}

),

renamed as (

    select
        org_id,
        name as org_name,
        kind,
        case when kind in ('社會評價組織', 'social') then 'social'
             when kind in ('用人單位', 'employer') then 'employer'
             when kind in ('院校', 'college') then 'college'
        end as kind_code,
        district_code,
        occupation_codes,
        registered_on,
        valid_to,
        delivery_date,
        _loaded_at
    from source

)

select * from renamed
