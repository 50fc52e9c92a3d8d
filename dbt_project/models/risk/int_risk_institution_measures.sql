-- One row per (training institution, month, feature): the counts behind each institution feature
-- of docs/RISK.md, k of n ("k of its n observations fell in the feature's band"), and pointers to
-- the records behind it. No threshold of RULES.md has to be crossed for a count to grow: each
-- band sits on the SAFE side of a rule's line, read from the rule's own var.
--
-- Incremental by month (delete+insert on month): a run recomputes the months from the month of
-- (run date - late_arrival_days) on, so a day's cost is bounded by about a month of data whatever
-- the history. The per-session features are computed per session, incrementally, in
-- int_risk_session_measures and only summed here; the claims, enrollments, sites and looped feeds
-- are read here. An older month changed by a late correction is recomputed by --full-refresh.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='month',
    schema='intermediate',
    on_schema_change='append_new_columns',
) }}
{%- set first_month = risk_first_month("(select max(starts_on) from " ~ ref('fct_sessions') ~ ")") %}

{%- set hours_line = var('hours_ratio') %}
{%- set hours_band = var('risk_hours_band', 0.05) %}
{%- set shared_days = var('risk_shared_trainee_days', 365) %}
{%- set loop_window = var('risk_loop_window_minutes', 45) %}
{%- set loop_days = var('risk_loop_lookback_days', 90) %}

with

-- the institutions' months with a held session (shared_site_address is counted for those)
active_months as (

    select distinct sessions.institution_id, {{ local_month('sessions.starts_on') }} as month
    from {{ ref('fct_sessions') }} as sessions
    where sessions.is_held
      and sessions.institution_id is not null
      and sessions.starts_on >= ({{ first_month }})

),

-- the per-session features (int_risk_session_measures: face check-ins and face matches near the
-- line, headcounts and coverage near the line, bursts one short, machine-like cadence), summed
-- per institution and month; each session a record behind its feature
session_features as (

    select
        institution_id, month, feature_code, 'session' as record_type,
        sum(k)::bigint as k,
        sum(n)::bigint as n,
        session_id,
        grouping(session_id) = 1 as is_total
    from {{ ref('int_risk_session_measures') }}
    where month >= ({{ first_month }})
    group by grouping sets ((institution_id, month, feature_code), (institution_id, month, feature_code, session_id))

),

-- regularity: a camera's headcounts repeating a varied window seen earlier at the institution (a
-- looped feed). Of the month's sessions with a fingerprinted series, those holding a varied
-- fingerprint equal to one of a window that started at least a window's length before (same or
-- another session, camera or site of the institution; not the same minutes seen by two cameras)
-- and at most risk_loop_lookback_days before. A loop within one session repeats that session.
-- shared places: the same, with a window of ANOTHER institution (one recording played at two
-- institutions: headcount_loop_shared). One index probe on (fingerprint) per varied window finds both.
headcount_loop_sessions as (

    select
        fingerprints.institution_id,
        fingerprints.month,
        fingerprints.session_id,
        count(distinct earlier.session_id) filter (
            where earlier.institution_id = fingerprints.institution_id) as repeated_sessions,
        count(distinct earlier.session_id) filter (
            where earlier.institution_id <> fingerprints.institution_id) as shared_sessions
    from {{ ref('int_risk_headcount_fingerprints') }} as fingerprints
    left join lateral (
        select earlier.session_id, earlier.institution_id
        from {{ ref('int_risk_headcount_fingerprints') }} as earlier
        where earlier.fingerprint = fingerprints.fingerprint
          and earlier.is_varied
          and earlier.window_start_at <= fingerprints.window_start_at - interval '{{ loop_window }} minutes'
          and earlier.window_start_at >= fingerprints.window_start_at - interval '{{ loop_days }} days'
        offset 0  -- an index probe on (fingerprint) per varied window
    ) as earlier on fingerprints.is_varied
    where fingerprints.month >= ({{ first_month }})
    group by fingerprints.institution_id, fingerprints.month, fingerprints.session_id

),

headcount_loop as (

    select
        institution_id, month, feature_code, 'session' as record_type,
        -- per session: how many sessions it repeats (evidence lists the most repeating first)
        case when grouping(session_id) = 1 then count(*) filter (where repeated > 0)
             else max(repeated) end as k,
        count(*) as n,
        session_id,
        grouping(session_id) = 1 as is_total
    from (
        select institution_id, month, session_id, 'headcount_loop' as feature_code, repeated_sessions as repeated
        from headcount_loop_sessions
        union all
        select institution_id, month, session_id, 'headcount_loop_shared', shared_sessions
        from headcount_loop_sessions
    ) as by_feature
    group by grouping sets ((institution_id, month, feature_code), (institution_id, month, feature_code, session_id))

),

-- bunching: claims whose attended hours are just above hours_ratio x planned (INSUFFICIENT_HOURS)
month_claims as (

    select
        claims.claim_id,
        claims.institution_id,
        claims.class_id,
        claims.enrollment_trainee_id,
        claims.person_key,
        claims.planned_hours,
        claims.claimed_on,
        {{ local_month('claims.claimed_on') }} as month
    from {{ ref('fct_subsidy_claims') }} as claims
    where claims.is_live
      and claims.institution_id is not null
      and claims.planned_hours > 0
      and claims.claimed_on >= ({{ first_month }})

),

-- the held sessions of the claims' classes (fct_sessions has no index: one scan, then hashed)
claim_class_sessions as (

    select sessions.session_id, sessions.class_id, sessions.starts_at, sessions.ends_at
    from {{ ref('fct_sessions') }} as sessions
    where sessions.is_held
      and sessions.class_id in (select class_id from month_claims)

),

-- attended hours: the claimant's check-ins (an index scan on trainee_id per claim) in the held
-- sessions of the claim's class
claim_attended as (

    select
        month_claims.claim_id,
        month_claims.institution_id,
        month_claims.month,
        month_claims.planned_hours,
        coalesce(sum(
            case
                when sessions.session_id is not null
                    and checkins.last_check_out_at > checkins.first_check_in_at then greatest(extract(epoch from
                    least(checkins.last_check_out_at, sessions.ends_at)
                    - greatest(checkins.first_check_in_at, sessions.starts_at)), 0)
                else 0
            end), 0) / 3600.0 as attended_hours
    from month_claims
    left join lateral (
        select checkins.session_id, checkins.first_check_in_at, checkins.last_check_out_at
        from {{ ref('fct_session_checkins') }} as checkins
        where checkins.trainee_id = month_claims.enrollment_trainee_id
        offset 0
    ) as checkins on true
    left join claim_class_sessions as sessions
        on sessions.session_id = checkins.session_id and sessions.class_id = month_claims.class_id
    group by month_claims.claim_id, month_claims.institution_id, month_claims.month, month_claims.planned_hours

),

hours_near_line as (

    select
        institution_id, month, 'hours_near_line' as feature_code, 'claim' as record_type,
        count(*) filter (where attended_hours < ({{ hours_line }} + {{ hours_band }}) * planned_hours) as k,
        count(*) as n,
        claim_id as record_id,
        grouping(claim_id) = 1 as is_total
    from claim_attended
    where attended_hours >= {{ hours_line }} * planned_hours
    group by grouping sets ((institution_id, month), (institution_id, month, claim_id))

),

-- shared people: claimants at exactly the yearly cap of live claims (DUPLICATE_SUBSIDY); counted
-- for the months' claimants only, not for every claimant of the year
claims_per_person_year as (

    select person_key, extract(year from claimed_on) as claim_year, count(*) as live_claims
    from {{ ref('fct_subsidy_claims') }}
    where is_live
      and person_key is not null
      and claimed_on >= date_trunc('year', ({{ first_month }}))
      and person_key in (select person_key from month_claims)
    group by 1, 2

),

claims_at_cap as (

    select
        month_claims.institution_id, month_claims.month, 'claims_at_cap' as feature_code, 'claim' as record_type,
        count(distinct month_claims.person_key)
            filter (where per_year.live_claims = {{ var('duplicate_max_claims_per_year') }}) as k,
        count(distinct month_claims.person_key) as n,
        month_claims.claim_id as record_id,
        grouping(month_claims.claim_id) = 1 as is_total
    from month_claims
    join claims_per_person_year as per_year
        on per_year.person_key = month_claims.person_key
        and per_year.claim_year = extract(year from month_claims.claimed_on)
    group by grouping sets ((month_claims.institution_id, month_claims.month),
                            (month_claims.institution_id, month_claims.month, month_claims.claim_id))

),

-- shared people: enrollments whose person enrolled at another institution in the year before
month_enrollments as (

    select enrollment_id, institution_id, person_key, enrolled_at, {{ local_month(local_date('enrolled_at')) }} as month
    from {{ ref('fct_enrollments') }}
    where institution_id is not null
      and person_key is not null
      and enrolled_at >= {{ local_midnight('(' ~ first_month ~ ')') }}

),

-- the earlier enrollments of the months' enrolled persons
recent_enrollments as (

    select institution_id, person_key, enrolled_at
    from {{ ref('fct_enrollments') }}
    where person_key is not null
      and enrolled_at >= {{ local_midnight('(' ~ first_month ~ ')') }} - interval '{{ shared_days }} days'
      and person_key in (select person_key from month_enrollments)

),

shared_trainees as (

    select
        month_enrollments.institution_id, month_enrollments.month, 'shared_trainees' as feature_code,
        'institution' as record_type,
        count(distinct month_enrollments.enrollment_id) filter (where other.institution_id is not null) as k,
        count(distinct month_enrollments.enrollment_id) as n,
        other.institution_id as record_id,
        grouping(other.institution_id) = 1 as is_total
    from month_enrollments
    left join recent_enrollments as other
        on other.person_key = month_enrollments.person_key
        and other.institution_id <> month_enrollments.institution_id
        and other.enrolled_at >= month_enrollments.enrolled_at - interval '{{ shared_days }} days'
        and other.enrolled_at < month_enrollments.enrolled_at
    group by grouping sets ((month_enrollments.institution_id, month_enrollments.month),
                            (month_enrollments.institution_id, month_enrollments.month, other.institution_id))

),

-- shared places: registered sites at the same street address as another institution's site
site_addresses as (

    select site_id, institution_id, lower(regexp_replace(address, '\s', '', 'g')) as address_key
    from {{ ref('dim_sites') }}
    where address is not null

),

shared_site_by_institution as (

    select
        sites.institution_id,
        count(distinct sites.site_id) filter (where other.site_id is not null) as k,
        count(distinct sites.site_id) as n,
        min(other.institution_id) as record_id
    from site_addresses as sites
    left join site_addresses as other
        on other.address_key = sites.address_key and other.institution_id <> sites.institution_id
    group by sites.institution_id

),

shared_site_address as (

    select
        active_months.institution_id, active_months.month, 'shared_site_address' as feature_code,
        'institution' as record_type,
        shared.k, shared.n, shared.record_id
    from active_months
    join shared_site_by_institution as shared on shared.institution_id = active_months.institution_id

),

per_record as (

    select institution_id, month, feature_code, record_type, k, n, session_id as record_id, is_total from session_features
    union all
    select institution_id, month, feature_code, record_type, k, n, session_id, is_total from headcount_loop
    union all
    select institution_id, month, feature_code, record_type, k, n, record_id, is_total from hours_near_line
    union all
    select institution_id, month, feature_code, record_type, k, n, record_id, is_total from claims_at_cap
    union all
    select institution_id, month, feature_code, record_type, k, n, record_id, is_total from shared_trainees
    union all
    select institution_id, month, feature_code, record_type, k, n, null, true from shared_site_address

),

-- the totals (record_id null) and up to five records that contributed most, as evidence pointers
totals as (

    select institution_id, month, feature_code, record_type, k, n
    from per_record
    where is_total

),

evidence as (

    select
        institution_id, month, feature_code,
        jsonb_agg(record_id order by k desc, record_id) filter (where rank <= 5) as records
    from (
        select *, row_number() over (partition by institution_id, month, feature_code order by k desc, record_id) as rank
        from per_record
        where not is_total and record_id is not null and k > 0
    ) as ranked
    group by institution_id, month, feature_code

),

shared_site_evidence as (

    select institution_id, month, feature_code, jsonb_build_array(record_id) as records
    from shared_site_address
    where record_id is not null and k > 0

)

select
    totals.institution_id,
    totals.month,
    totals.feature_code,
    totals.record_type,
    totals.k,
    totals.n,
    coalesce(evidence.records, shared_site_evidence.records, '[]'::jsonb) as evidence_records
from totals
left join evidence
    on evidence.institution_id = totals.institution_id
    and evidence.month = totals.month
    and evidence.feature_code = totals.feature_code
left join shared_site_evidence
    on shared_site_evidence.institution_id = totals.institution_id
    and shared_site_evidence.month = totals.month
    and shared_site_evidence.feature_code = totals.feature_code
where totals.n > 0
