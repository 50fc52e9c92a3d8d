-- HEADCOUNT_SHORTFALL (RULES.md): a held onsite session with C >= 5 distinct trainees checked in
-- where H < 0.8 x C; H is the largest headcount.count sent by the site's cameras with ts in
-- W = [starts_at, ends_at) (0 if none). occurred_on: local date the session starts. A session after
-- the run's day is not judged yet (docs/CONTRACT_READINGS.md).
-- Incremental per session (macros/incremental_rules.sql): a run recomputes the sessions whose inputs changed.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ stage_recompute(session_change_sources(), session_inputs_changed_sql()) }}",
    post_hook="{{ record_marks() }}",
) }}
{{ change_source_refs(session_change_sources()) }}

with

-- materialized: the staged set first, then the per-session lookups (inlined, the planner ran the
-- lookups for every held session of the history and filtered afterwards)
held_onsite_sessions as materialized (

    select * from {{ ref('fct_sessions') }}
    where is_held_onsite{{ and_recomputed('session_id') }}

),

-- per session, through the indexes on session_id: aggregating the check-ins filtered by the staged
-- set let the planner merge-join the whole check-in table (its history) against it
sessions_compared as (

    select
        held_onsite_sessions.session_id,
        held_onsite_sessions.district_code,
        held_onsite_sessions.starts_on,
        checked_in.trainees_checked_in as c,
        coalesce(largest_headcount.max_headcount, 0) as h
    from held_onsite_sessions
    cross join lateral (
        select count(distinct checkins.trainee_id) as trainees_checked_in
        from {{ ref('fct_session_checkins') }} as checkins
        where checkins.session_id = held_onsite_sessions.session_id
          and checkins.is_checked_in
    ) as checked_in
    -- inner: the video coverage has a row for every session up to the run's day (0 headcount when
    -- no event) and none for a later one, whose video has not arrived yet
    join {{ ref('fct_session_video_coverage') }} as largest_headcount
        on largest_headcount.session_id = held_onsite_sessions.session_id

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
