-- INSUFFICIENT_HOURS (RULES.md): a live claim whose enrollment's attended hours are
-- < 0.8 x the class's planned_hours. Attended hours: the sum over the class's held sessions of the
-- length of [first check_in, last check_out) of the enrollment's trainee in that session, cut to
-- W; a session without a check_in or without a check_out, or whose last check_out is not after
-- its first check_in, adds 0. A claim whose enrollment or class is unknown does not fire.
-- occurred_on: local date of claimed_at.
-- Incremental per claim (macros/incremental_rules.sql): a run recomputes the claims whose inputs
-- changed (claim_hours_inputs_changed_sql).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ stage_recompute(['subsidy_claims', 'enrollments', 'classes', 'institutions', 'session_classes', 'attendance'], claim_hours_inputs_changed_sql()) }}",
    post_hook="{{ record_marks() }}",
) }}
{{ change_source_refs(['subsidy_claims', 'enrollments', 'classes', 'institutions', 'session_classes', 'attendance']) }}

with

live_claims as (

    select * from {{ ref('fct_subsidy_claims') }}
    where is_live
      and class_id is not null          -- enrollment known and ...
      and planned_hours is not null     -- ... its class known
      {{ and_recomputed('claim_id') }}

),

held_sessions as (

    select session_id, class_id, starts_at, ends_at
    from {{ ref('fct_sessions') }}
    where is_held

),

checkins as (

    select * from {{ ref('fct_session_checkins') }}

),

attended_per_session as (

    select
        live_claims.claim_id,
        held_sessions.session_id,
        case
            when checkins.first_check_in_at is null or checkins.last_check_out_at is null then 0
            when checkins.last_check_out_at <= checkins.first_check_in_at then 0
            -- [first check_in, last check_out) cut to W = [starts_at, ends_at)
            else greatest(
                extract(epoch from
                    least(checkins.last_check_out_at, held_sessions.ends_at)
                    - greatest(checkins.first_check_in_at, held_sessions.starts_at)),
                0)
        end as attended_seconds
    from live_claims
    join held_sessions on held_sessions.class_id = live_claims.class_id
    left join checkins
        on checkins.session_id = held_sessions.session_id
        and checkins.trainee_id = live_claims.enrollment_trainee_id

),

attended_hours as (

    select
        live_claims.claim_id,
        live_claims.district_code,
        live_claims.claimed_on,
        live_claims.planned_hours,
        count(attended_per_session.session_id) as held_sessions,
        -- summed in seconds (exact), compared in seconds: no rounding at the boundary
        coalesce(sum(attended_per_session.attended_seconds), 0) as attended_seconds
    from live_claims
    left join attended_per_session on attended_per_session.claim_id = live_claims.claim_id
    group by live_claims.claim_id, live_claims.district_code, live_claims.claimed_on, live_claims.planned_hours

)

select
    'INSUFFICIENT_HOURS'::text as rule_code,
    'claim'::text as entity_type,
    claim_id as entity_key,
    district_code,
    claimed_on as occurred_on,
    jsonb_build_object(
        'attended_hours', round(attended_seconds / 3600.0, 4),
        'planned_hours', planned_hours,
        'required_hours', {{ var('hours_ratio') }} * planned_hours,
        'held_sessions', held_sessions
    ) as evidence
from attended_hours
where attended_seconds < {{ var('hours_ratio') }} * planned_hours * 3600
  and district_code is not null
