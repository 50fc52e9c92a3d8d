-- One row per (held session, feature) of the per-session institution features of docs/RISK.md:
-- k of n for that session ("k of its n observations fell in the feature's band"), for
-- int_risk_institution_measures to sum per institution and month. No threshold of RULES.md has to
-- be crossed for a count to grow: each band sits on the SAFE side of a rule's line, read from the
-- rule's own var. A session with nothing a feature looks at has no row for it.
--
-- Incremental per session, as the session rules (macros/incremental_rules.sql): a run recomputes
-- the sessions whose inputs may have changed (the late-arrival window's sessions, sessions whose
-- row, site, cameras, class or institution were reloaded, sessions with attendance loaded), so a
-- day's cost follows a day of data, not the month so far (docs/decisions/0051). A pre-hook deletes
-- their rows first; the post-hook records how far each source was read.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    schema='intermediate',
    on_schema_change='append_new_columns',
    pre_hook="{{ stage_recompute(session_change_sources(), session_inputs_changed_sql(), ['session_id'], indexed=true) }}",
    post_hook=[
        "create index if not exists int_risk_session_measures_session_idx on {{ this }} (session_id)",
        "create index if not exists int_risk_session_measures_month_idx on {{ this }} (month)",
        "{{ record_marks() }}",
    ],
) }}
{{ change_source_refs(session_change_sources()) }}

{%- set face_line = var('face_min_score') %}
{%- set face_band = var('risk_face_band', 0.05) %}
{%- set head_line = var('headcount_ratio') %}
{%- set head_band = var('risk_headcount_band', 0.05) %}
{%- set cover_line = var('camera_down_uncovered_share') %}
{%- set cover_band = var('risk_coverage_band', 0.05) %}
{%- set cadence_cv = var('risk_cadence_max_cv', 0.2) %}

with

held_sessions as (

    select
        sessions.session_id,
        sessions.institution_id,
        sessions.class_id,
        sessions.is_held_onsite,
        {{ local_month('sessions.starts_on') }} as month
    from {{ ref('fct_sessions') }} as sessions
    where sessions.is_held
      and sessions.institution_id is not null{{ and_recomputed('sessions.session_id') }}

),

-- The facts below are read per held session, each a lateral subquery on the fact's session_id
-- index, `offset 0` keeping it a per-row index scan: joined as tables, the planner hashes the whole
-- fact (every day of history) for a day's sessions, and a day's run grows with history
-- (docs/decisions/0040).

subsidised_sessions as (

    select held_sessions.*
    from held_sessions
    join {{ ref('dim_classes') }} as classes on classes.class_id = held_sessions.class_id
    where classes.is_subsidised

),

-- bunching: face check-ins of subsidised classes scored just above face_min_score (WEAK_IDENTITY)
face_checkins as (

    select
        subsidised_sessions.institution_id,
        subsidised_sessions.month,
        attendance.session_id,
        attendance.face_score
    from subsidised_sessions
    cross join lateral (
        select attendance.session_id, attendance.face_score
        from {{ ref('fct_attendance') }} as attendance
        where attendance.session_id = subsidised_sessions.session_id
          and attendance.event = 'check_in'
          and attendance.method = 'face'
          and attendance.face_score >= {{ face_line }}
        offset 0  -- per-session index scan, see held_sessions
    ) as attendance

),

face_checkin_near_line as (

    select
        institution_id, month, 'face_checkin_near_line' as feature_code,
        count(*) filter (where face_score < {{ face_line }} + {{ face_band }}) as k,
        count(*) as n,
        session_id
    from face_checkins
    group by institution_id, month, session_id

),

-- bunching: best camera face match of a checked-in trainee just above face_min_score (FACE_NOT_SEEN)
face_match_near_line as (

    select
        held_sessions.institution_id, held_sessions.month, 'face_match_near_line' as feature_code,
        count(*) filter (where matches.best_face_score < {{ face_line }} + {{ face_band }}) as k,
        count(*) as n,
        matches.session_id
    from held_sessions
    cross join lateral (
        select matches.session_id, matches.best_face_score
        from {{ ref('fct_session_face_matches') }} as matches
        join {{ ref('fct_session_checkins') }} as checkins
            on checkins.session_id = matches.session_id and checkins.trainee_id = matches.trainee_id
        where matches.session_id = held_sessions.session_id
          and checkins.session_id = held_sessions.session_id
          and checkins.is_checked_in
          and matches.best_face_score >= {{ face_line }}
        offset 0
    ) as matches
    where held_sessions.is_held_onsite
    group by held_sessions.institution_id, held_sessions.month, matches.session_id

),

-- bunching: headcount just at headcount_ratio x checked-in (HEADCOUNT_SHORTFALL)
session_headcounts as (

    select
        held_sessions.institution_id,
        held_sessions.month,
        held_sessions.session_id,
        coverage.max_headcount,
        coverage.minutes_total,
        coverage.minutes_uncovered,
        (select count(*) from {{ ref('fct_session_checkins') }} as checkins
         where checkins.session_id = held_sessions.session_id and checkins.is_checked_in) as checked_in
    from held_sessions
    cross join lateral (
        select coverage.max_headcount, coverage.minutes_total, coverage.minutes_uncovered
        from {{ ref('fct_session_video_coverage') }} as coverage
        where coverage.session_id = held_sessions.session_id
        offset 0
    ) as coverage
    where held_sessions.is_held_onsite

),

headcount_near_line as (

    select
        institution_id, month, 'headcount_near_line' as feature_code,
        count(*) filter (where coalesce(max_headcount, 0) < ({{ head_line }} + {{ head_band }}) * checked_in) as k,
        count(*) as n,
        session_id
    from session_headcounts
    where checked_in >= {{ var('headcount_min_checked_in') }}
      and coalesce(max_headcount, 0) >= {{ head_line }} * checked_in
    group by institution_id, month, session_id

),

-- bunching: uncovered minutes just under camera_down_uncovered_share (CAMERA_DOWN)
coverage_near_line as (

    select
        institution_id, month, 'coverage_near_line' as feature_code,
        count(*) filter (where minutes_uncovered > ({{ cover_line }} - {{ cover_band }}) * minutes_total) as k,
        count(*) as n,
        session_id
    from session_headcounts
    where minutes_total > 0
      and minutes_uncovered <= {{ cover_line }} * minutes_total
    group by institution_id, month, session_id

),

-- bunching: a device whose largest burst is one check-in short of burst_min_checkins (CHECKIN_BURST)
burst_near_line as (

    select
        held_sessions.institution_id, held_sessions.month, 'burst_near_line' as feature_code,
        count(*) filter (where bursts.largest_burst = {{ var('burst_min_checkins') }} - 1) as k,
        count(*) as n,
        bursts.session_id
    from held_sessions
    cross join lateral (
        select bursts.session_id, bursts.largest_burst
        from {{ ref('fct_session_checkin_bursts') }} as bursts
        where bursts.session_id = held_sessions.session_id
          and bursts.check_ins >= {{ var('burst_min_checkins') }}
          and bursts.largest_burst < {{ var('burst_min_checkins') }}
        offset 0
    ) as bursts
    group by held_sessions.institution_id, held_sessions.month, bursts.session_id

),

-- regularity: check-ins of one device at machine-like intervals (coefficient of variation of the
-- gaps between consecutive check-ins below risk_cadence_max_cv), devices with >= burst_min_checkins
checkin_gaps as (

    select
        held_sessions.institution_id,
        held_sessions.month,
        attendance.session_id,
        attendance.device_id,
        extract(epoch from attendance.captured_at
            - lag(attendance.captured_at) over (
                partition by attendance.session_id, attendance.device_id order by attendance.captured_at))
            as gap_seconds
    from held_sessions
    cross join lateral (
        select attendance.session_id, attendance.device_id, attendance.captured_at
        from {{ ref('fct_attendance') }} as attendance
        where attendance.session_id = held_sessions.session_id
          and attendance.event = 'check_in'
        offset 0
    ) as attendance

),

device_cadence as (

    select
        institution_id, month, session_id, device_id,
        count(gap_seconds) as gaps,
        stddev_pop(gap_seconds) / nullif(avg(gap_seconds), 0) as gap_cv
    from checkin_gaps
    group by institution_id, month, session_id, device_id
    having count(gap_seconds) >= {{ var('burst_min_checkins') }} - 1

),

checkin_cadence_regular as (

    select
        institution_id, month, 'checkin_cadence_regular' as feature_code,
        count(*) filter (where gap_cv < {{ cadence_cv }}) as k,
        count(*) as n,
        session_id
    from device_cadence
    group by institution_id, month, session_id

),

per_session as (

    select session_id, institution_id, month, feature_code, k, n from face_checkin_near_line
    union all
    select session_id, institution_id, month, feature_code, k, n from face_match_near_line
    union all
    select session_id, institution_id, month, feature_code, k, n from headcount_near_line
    union all
    select session_id, institution_id, month, feature_code, k, n from coverage_near_line
    union all
    select session_id, institution_id, month, feature_code, k, n from burst_near_line
    union all
    select session_id, institution_id, month, feature_code, k, n from checkin_cadence_regular

)

select session_id, institution_id, month, feature_code, k, n
from per_session
where n > 0
