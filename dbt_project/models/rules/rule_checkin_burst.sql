-- CHECKIN_BURST (RULES.md): at least 6 check_in rows of the session from one device_id with
-- captured_at within 30 seconds of each other (max - min <= 30 s). The largest such group per
-- device is computed in fct_session_checkin_bursts. One finding per session (the device with the
-- largest burst is the evidence). occurred_on: local date the session starts.
-- Incremental per session (macros/incremental_rules.sql): a run recomputes the sessions whose inputs changed.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ stage_recompute(session_change_sources(), session_inputs_changed_sql()) }}",
    post_hook="{{ record_marks() }}",
) }}
{{ change_source_refs(session_change_sources()) }}

with

sessions as (

    select * from {{ ref('fct_sessions') }}
    where true{{ and_recomputed('session_id') }}

),

device_bursts as (

    select * from {{ ref('fct_session_checkin_bursts') }}
    where largest_burst >= {{ var('burst_min_checkins') }}{{ and_recomputed('session_id') }}

),

largest_burst_per_session as (

    select distinct on (session_id)
        session_id,
        device_id,
        largest_burst,
        largest_burst_started_at
    from device_bursts
    order by session_id, largest_burst desc, device_id

)

select
    'CHECKIN_BURST'::text as rule_code,
    'session'::text as entity_type,
    sessions.session_id as entity_key,
    sessions.district_code,
    sessions.starts_on as occurred_on,
    jsonb_build_object(
        'device_id', largest_burst_per_session.device_id,
        'check_ins_in_burst', largest_burst_per_session.largest_burst,
        'burst_started_at', largest_burst_per_session.largest_burst_started_at,
        'burst_seconds', {{ var('burst_seconds') }}
    ) as evidence
from largest_burst_per_session
join sessions on sessions.session_id = largest_burst_per_session.session_id
where sessions.district_code is not null
