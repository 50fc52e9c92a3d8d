-- DUPLICATE_SUBSIDY (RULES.md): order each person's live claims by (claimed_at, claim_id). A claim
-- fires if an earlier one of the same person was for a class of the same occupation_code and
-- skill_level, or if it is that person's 4th or later live claim with claimed_at in the same
-- local calendar year. Person = person_key of the claim's trainee_id (same resident ID number);
-- a claim whose trainee is unknown has no person and does not fire. Earlier claims whose class is
-- unknown cannot match on occupation/level but still count towards the yearly number.
-- occurred_on: local date of claimed_at.
with

live_claims as (

    select * from {{ ref('fct_subsidy_claims') }}
    where is_live
      and person_key is not null

),

claims_in_person_order as (

    select
        claim_id,
        person_key,
        district_code,
        occupation_code,
        skill_level,
        claimed_at,
        claimed_on,
        row_number() over (
            partition by person_key, extract(year from claimed_on)
            order by claimed_at, claim_id
        ) as nth_live_claim_in_year
    from live_claims

),

earlier_claim_same_occupation_level as (

    select distinct on (this_claim.claim_id)
        this_claim.claim_id,
        earlier_claim.claim_id as earlier_claim_id
    from claims_in_person_order as this_claim
    join claims_in_person_order as earlier_claim
        on earlier_claim.person_key = this_claim.person_key
        and earlier_claim.occupation_code = this_claim.occupation_code
        and earlier_claim.skill_level = this_claim.skill_level
        and (earlier_claim.claimed_at, earlier_claim.claim_id) < (this_claim.claimed_at, this_claim.claim_id)
    order by this_claim.claim_id, earlier_claim.claimed_at, earlier_claim.claim_id

),

duplicate_claims as (

    select
        claims_in_person_order.*,
        earlier_claim_same_occupation_level.earlier_claim_id
    from claims_in_person_order
    left join earlier_claim_same_occupation_level
        on earlier_claim_same_occupation_level.claim_id = claims_in_person_order.claim_id
    where earlier_claim_same_occupation_level.claim_id is not null
       or claims_in_person_order.nth_live_claim_in_year > {{ var('duplicate_max_claims_per_year') }}

)

select
    'DUPLICATE_SUBSIDY'::text as rule_code,
    'claim'::text as entity_type,
    claim_id as entity_key,
    district_code,
    claimed_on as occurred_on,
    jsonb_build_object(
        'earlier_claim_same_occupation_level', earlier_claim_id,
        'occupation_code', occupation_code,
        'skill_level', skill_level,
        'nth_live_claim_in_year', nth_live_claim_in_year,
        'max_claims_per_year', {{ var('duplicate_max_claims_per_year') }}
    ) as evidence
from duplicate_claims
where district_code is not null
