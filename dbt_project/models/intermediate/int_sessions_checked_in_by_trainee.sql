-- One row per (trainee, non-cancelled session the trainee checked in to) with the session window,
-- and one row per local day the window touches. Two windows that overlap (a.start < b.end and
-- b.start < a.end) always share such a day, so overlap searches (CONCURRENT_CHECKIN,
-- EXAM_DURING_TRAINING) can join on (trainee, day) instead of comparing every pair of a
-- trainee's sessions. Days are taken between the earlier and later of starts_at / ends_at, so even
-- an inverted window (ends_at <= starts_at, which the overlap test can still match) is found;
-- a window is cut to 366 days so one absurd ends_at cannot explode the table.
-- Incremental per session (macros/incremental_rules.sql): a run recomputes the sessions whose
-- inputs changed (check-ins, window, status, district); not the lookback window of late video
-- files, which changes none of them.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ stage_recompute(session_change_sources(), session_inputs_changed_sql(lookback=false), ['session_id'], indexed=true) }}",
    post_hook=[
        "{{ record_marks() }}",
        "create index if not exists int_sessions_checked_in_by_trainee_idx on {{ this }} (trainee_id, window_day)",
        "create index if not exists int_sessions_checked_in_by_trainee_session_idx on {{ this }} (session_id)",
    ],
) }}
{{ change_source_refs(session_change_sources()) }}

-- The check-ins of the staged sessions are read as `= any(array(...))`, one scan of
-- fct_session_checkins' session_id index: with `session_id in (select ...)` the planner hashed the
-- staged set and scanned the whole fact (every day of history). fct_sessions has no index: there
-- the semi-join stays (a non-constant array is searched element by element for every row).
with

checkins as (

    select * from {{ ref('fct_session_checkins') }}
    where is_checked_in{% if is_incremental() %} and session_id = any(array{{ recompute_keys() }}){% endif %}

),

sessions as (

    select * from {{ ref('fct_sessions') }}
    where not is_cancelled{{ and_recomputed('session_id') }}

),

checked_in_sessions as (

    select
        checkins.trainee_id,
        sessions.session_id,
        sessions.district_code,
        sessions.starts_at,
        sessions.ends_at,
        {{ local_date('least(sessions.starts_at, sessions.ends_at)') }} as first_day,
        {{ local_date('greatest(sessions.starts_at, sessions.ends_at)') }} as last_day
    from checkins
    join sessions on sessions.session_id = checkins.session_id

)

select
    trainee_id,
    session_id,
    district_code,
    window_day::date as window_day,
    starts_at,
    ends_at
from checked_in_sessions
cross join lateral generate_series(first_day, least(last_day, first_day + 366), interval '1 day') as window_day
