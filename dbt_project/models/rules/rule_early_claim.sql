-- EARLY_CLAIM (RULES.md): a live claim whose local claimed_at date is before the class's end_date,
-- or before the issued_on date of its certificate (where the certificate is known).
-- occurred_on: local date of claimed_at.
with

live_claims as (

    select * from {{ ref('fct_subsidy_claims') }}
    where is_live

),

certificates as (

    select * from {{ ref('fct_certificates') }}

),

claims_dated as (

    select
        live_claims.claim_id,
        live_claims.district_code,
        live_claims.claimed_on,
        live_claims.class_end_date,
        certificates.issued_on as certificate_issued_on
    from live_claims
    left join certificates on certificates.certificate_no = live_claims.certificate_no

),

early_claims as (

    select * from claims_dated
    where claimed_on < class_end_date
       or claimed_on < certificate_issued_on

)

select
    'EARLY_CLAIM'::text as rule_code,
    'claim'::text as entity_type,
    claim_id as entity_key,
    district_code,
    claimed_on as occurred_on,
    jsonb_build_object(
        'claimed_on', claimed_on,
        'class_end_date', class_end_date,
        'certificate_issued_on', certificate_issued_on,
        'before_class_end', coalesce(claimed_on < class_end_date, false),
        'before_certificate_issued', coalesce(claimed_on < certificate_issued_on, false)
    ) as evidence
from early_claims
where district_code is not null
