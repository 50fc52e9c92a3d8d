-- HEADCOUNT_SHORTFALL (RULES.md): a held onsite session with C >= 5 distinct trainees checked in
-- where H < 0.8 x C; H is the largest headcount.count sent by the site's cameras with ts in
-- W = [starts_at, ends_at) (0 if none). occurred_on: local date the session starts.
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

checked_in as (

    select session_id, count(distinct trainee_id) as trainees_checked_in
    from {{ ref('fct_session_checkins') }}
    where is_checked_in{{ and_recomputed('session_id') }}
    group by session_id

),

largest_headcount as (

    select session_id, coalesce(max_headcount, 0) as max_headcount
    from {{ ref('fct_session_video_coverage') }}
    where true{{ and_recomputed('session_id') }}

),

sessions_compared as (

    select
        held_onsite_sessions.session_id,
        held_onsite_sessions.district_code,
        held_onsite_sessions.starts_on,
        checked_in.trainees_checked_in as c,
        coalesce(largest_headcount.max_headcount, 0) as h
    from held_onsite_sessions
    join checked_in on checked_in.session_id = held_onsite_sessions.session_id
    left join largest_headcount on largest_headcount.session_id = held_onsite_sessions.session_id

)

select
    'HEADCOUNT_SHORTFALL'::text as rule_code,
    'session'::text as entity_type,
    session_id as entity_key,
    district_code,
    starts_on as occurred_on,
    jsonb_build_object('checked_in', c, 'max_headcount', h, 'ratio', {{ var('headcount_ratio') }}) as evidence
from sessions_compared
where c >= {{ var('headcount_min_checked_in') }}
  and h < {{ var('headcount_ratio') }} * c
  and district_code is not null
