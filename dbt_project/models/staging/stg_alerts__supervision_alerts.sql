with

source as (

    select * from {{ source('alerts', 'supervision_alerts') }}

),

renamed as (

    select
        alert_id,
        rule_code,
        severity,
        entity_type,
        entity_key,
        district_code,
        status,
        evidence,
        is_active,
        occurred_on,
        first_detected_at,
        last_detected_at
    from source

)

select * from renamed
