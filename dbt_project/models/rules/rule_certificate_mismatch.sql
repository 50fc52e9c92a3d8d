-- CERTIFICATE_MISMATCH (RULES.md): a live claim whose certificate_no is null or unknown, or whose
-- certificate belongs to another person (ID number), or is for another occupation_code or
-- skill_level than the claim's class. The person clause compares the certificate holder with the
-- claim's trainee (person_key); the occupation/level clause needs the claim's class (unknown
-- class: that clause does not fire). A certificate without a level does not attest the class's
-- level (is distinct from). occurred_on: local date of claimed_at.
-- Incremental per claim (macros/incremental_entities.sql): a run recomputes the claims its loads
-- reach (the claim, its enrollment, trainee, class, the class's institution or its certificate
-- reloaded); a full rebuild grew with every claim of the history. _built_at: the build that wrote
-- the row (the daily data tests read the latest build's, macros/data_tests_scope.sql; the unique
-- index on entity_key holds the key over the whole table).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ stage_recompute(['subsidy_claims', 'enrollments', 'trainees', 'classes', 'institutions', 'certificates'], claim_inputs_changed_sql(ref('fct_subsidy_claims'), certificates=true), indexed=true, unique_index='rule_certificate_mismatch_key_idx') }}",
    post_hook=[
        "{{ record_marks() }}",
        "create unique index if not exists rule_certificate_mismatch_key_idx on {{ this }} (entity_key)",
        "create index if not exists rule_certificate_mismatch_built_at_idx on {{ this }} (_built_at)",
    ],
) }}
{{ change_source_refs(['subsidy_claims', 'enrollments', 'trainees', 'classes', 'institutions', 'certificates']) }}

with

live_claims as (

    select * from {{ ref('fct_subsidy_claims') }}
    where is_live{% if is_incremental() %} and claim_id = any(array{{ recompute_keys() }}){% endif %}

),

certificates as (

    select * from {{ ref('fct_certificates') }}

),

claims_with_certificate as (

    select
        live_claims.claim_id,
        live_claims.district_code,
        live_claims.claimed_on,
        live_claims.certificate_no,
        live_claims.person_key as claimant_person_key,
        live_claims.class_id,
        live_claims.occupation_code as class_occupation_code,
        live_claims.skill_level as class_skill_level,
        certificates.certificate_no is not null as is_certificate_known,
        certificates.person_key as holder_person_key,
        certificates.occupation_code as certificate_occupation_code,
        certificates.skill_level as certificate_skill_level
    from live_claims
    left join certificates on certificates.certificate_no = live_claims.certificate_no

),

mismatches as (

    select
        *,
        case
            when certificate_no is null then 'certificate_no_missing'
            when not is_certificate_known then 'certificate_unknown'
            when claimant_person_key is not null and holder_person_key <> claimant_person_key then 'other_person'
            when class_id is not null and (
                certificate_occupation_code is distinct from class_occupation_code
                or certificate_skill_level is distinct from class_skill_level) then 'other_occupation_or_level'
        end as mismatch
    from claims_with_certificate

)

select
    'CERTIFICATE_MISMATCH'::text as rule_code,
    'claim'::text as entity_type,
    claim_id as entity_key,
    district_code,
    claimed_on as occurred_on,
    jsonb_build_object(
        'mismatch', mismatch,
        'certificate_no', certificate_no,
        'certificate_occupation_code', certificate_occupation_code,
        'certificate_skill_level', certificate_skill_level,
        'class_occupation_code', class_occupation_code,
        'class_skill_level', class_skill_level,
        'same_person', case when is_certificate_known and claimant_person_key is not null
                            then holder_person_key = claimant_person_key end
    ) as evidence,
    {{ built_at_sql() }} as _built_at
from mismatches
where mismatch is not null
  and district_code is not null
