-- CAMERA_DOWN (RULES.md): a held onsite session where more than 10% of its minutes are uncovered.
-- Minutes, "up" and "covered" are computed in fct_session_video_coverage (see there); a site
-- without cameras has every minute uncovered; a session with no whole minute never fires.
-- occurred_on: local date the session starts.
-- Incremental per session (macros/incremental_rules.sql): a run recomputes the sessions whose inputs changed.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ stage_recompute(session_change_sources(), session_inputs_changed_sql()) }}",
    post_hook="{{ record_marks() }}",
) }}
{{ change_source_refs(session_change_sources()) }}

with

held_onsite_sessions as (

    select * from {{ ref('fct_sessions') }}
    where is_held_onsite{{ and_recomputed('session_id') }}

),

session_minute_coverage as (

    select * from {{ ref('fct_session_video_coverage') }}

),

sessions_with_whole_minutes as (

    select
        held_onsite_sessions.session_id,
        held_onsite_sessions.district_code,
        held_onsite_sessions.starts_on,
        session_minute_coverage.site_cameras,
        session_minute_coverage.minutes_total,
        session_minute_coverage.minutes_uncovered
    from held_onsite_sessions
    join session_minute_coverage on session_minute_coverage.session_id = held_onsite_sessions.session_id
    where session_minute_coverage.minutes_total > 0

),

more_than_share_uncovered as (

    select * from sessions_with_whole_minutes
    where minutes_uncovered > {{ var('camera_down_uncovered_share') }} * minutes_total

)

select
    'CAMERA_DOWN'::text as rule_code,
    'session'::text as entity_type,
    session_id as entity_key,
    district_code,
    starts_on as occurred_on,
    jsonb_build_object(
        'minutes', minutes_total,
        'uncovered_minutes', minutes_uncovered,
        'uncovered_share', round(minutes_uncovered::numeric / minutes_total, 4),
        'threshold_share', {{ var('camera_down_uncovered_share') }},
        'site_cameras', site_cameras
    ) as evidence
from more_than_share_uncovered
where district_code is not null
