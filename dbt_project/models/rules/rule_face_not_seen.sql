-- FACE_NOT_SEEN (RULES.md): a held onsite session whose site's cameras sent at least one face
-- event in W (matched or not), and a checked-in trainee for whom none of those events in W has
-- that trainee_id with score >= 0.75. entity_key session_id|trainee_id.
-- occurred_on: local date the session starts.
-- Incremental per session (macros/incremental_rules.sql): a run recomputes the sessions whose inputs changed.
-- Only the sessions are filtered to the recomputed set; the other inputs reach them through the
-- joins on session_id (their indexes). Filtering each input by the set as well made the planner
-- expect a handful of rows and probe the face matches with a semi-join per checked-in trainee:
-- 153 s on a city-scale day (221 k trainees x 8 k staged sessions), against about 1 s.
-- The recomputed sessions are materialized first: inlined, the planner may apply the staged set
-- last, after joining every held session's check-ins with every face match (3.8 M rows: 9.1 s on
-- one day of a quarter's warehouse, where the query otherwise takes 0.5-1.1 s), when its
-- statistics of the face matches make that join look small.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ stage_recompute(session_change_sources(), session_inputs_changed_sql(), [entity_key_part(1)]) }}",
    post_hook="{{ record_marks() }}",
) }}
{{ change_source_refs(session_change_sources()) }}

with

held_onsite_sessions as materialized (

    select * from {{ ref('fct_sessions') }}
    where is_held_onsite{{ and_recomputed('session_id') }}

),

sessions_with_face_events as (

    select session_id, face_events
    from {{ ref('fct_session_video_coverage') }}
    where face_events >= 1

),

checked_in_trainees as (

    select session_id, trainee_id
    from {{ ref('fct_session_checkins') }}
    where is_checked_in

),

face_matches as (

    select session_id, trainee_id, best_face_score
    from {{ ref('fct_session_face_matches') }}

),

trainees_not_seen as (

    select
        held_onsite_sessions.session_id,
        checked_in_trainees.trainee_id,
        held_onsite_sessions.district_code,
        held_onsite_sessions.starts_on,
        sessions_with_face_events.face_events,
        face_matches.best_face_score
    from held_onsite_sessions
    join sessions_with_face_events on sessions_with_face_events.session_id = held_onsite_sessions.session_id
    join checked_in_trainees on checked_in_trainees.session_id = held_onsite_sessions.session_id
    left join face_matches
        on face_matches.session_id = checked_in_trainees.session_id
        and face_matches.trainee_id = checked_in_trainees.trainee_id
    where face_matches.best_face_score is null
       or face_matches.best_face_score < {{ var('face_min_score') }}

)

select
    'FACE_NOT_SEEN'::text as rule_code,
    'session_trainee'::text as entity_type,
    session_id || '|' || trainee_id as entity_key,
    district_code,
    starts_on as occurred_on,
    jsonb_build_object(
        'face_events_in_window', face_events,
        'best_score_for_trainee', best_face_score,
        'min_score', {{ var('face_min_score') }}
    ) as evidence
from trainees_not_seen
where district_code is not null
