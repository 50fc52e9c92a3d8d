with

source as (

    select * from {{ source('raw_training', 'subsidy_claims') }}

),

renamed as (

    select
        claim_id,
        enrollment_id,
        trainee_id,
        nullif(trim(certificate_no), '') as certificate_no,
        status,
        amount_cny,
        status <> 'rejected' as is_live,
        claimed_at,
        {{ local_date('claimed_at') }} as claimed_on,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
