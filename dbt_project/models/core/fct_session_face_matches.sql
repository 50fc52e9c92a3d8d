-- One row per (held onsite session, trainee_id) matched by a face event of the site's cameras in
-- the session window W = [starts_at, ends_at): how often and the best score (FACE_NOT_SEEN
-- compares the best score with face_min_score). Same incremental window as the video coverage.
-- The session index carries trainee_id and the best score: FACE_NOT_SEEN's probe for one trainee
-- of a session is one index entry (it read the session's 33 rows on average at city scale).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ stage_sessions_to_recompute(video_sessions_to_recompute_sql()) }}",
    post_hook=[
        "create index if not exists fct_session_face_matches_session_trainee_idx on {{ this }} (session_id, trainee_id) include (best_face_score)",
        "create index if not exists fct_session_face_matches_built_at_idx on {{ this }} (_built_at)",
        "create index if not exists fct_session_face_matches_video_loaded_at_idx on {{ this }} (_video_loaded_at)",
        "create index if not exists fct_session_face_matches_run_date_idx on {{ this }} (_run_date)",
        "create index if not exists fct_session_face_matches_source_loaded_at_idx on {{ this }} (_source_loaded_at)",
    ],
) }}

with

-- the sessions up to the run's day: a session on a later day has no video yet (its own day's
-- run builds it; one moved to a later day loses its row: the pre-hook deleted it)
sessions as (

    select * from {{ ref('stg_training__sessions') }}
    where starts_on <= {{ run_date_sql() }}
    {% if is_incremental() %}
      and session_id in (select session_id from {{ sessions_to_recompute_relation() }})
    {% endif %}

),

cameras as (

    select * from {{ ref('stg_training__cameras') }}

),

-- not materialized: referenced more than once, and PostgreSQL would otherwise copy the whole
-- event table instead of reading the few camera/time ranges it needs through (camera_id, ts)
events as not materialized (

    select * from {{ ref('stg_video__events') }}

),

face_events_in_window as (

    select
        sessions.session_id,
        events.trainee_id,
        events.face_score,
        greatest(sessions._loaded_at, cameras._loaded_at) as _loaded_at
    from sessions
    join cameras on cameras.site_id = sessions.site_id
    -- lateral: one index range scan on (camera_id, ts) per session camera, whatever the history
    cross join lateral (
        select face.trainee_id, face.face_score
        from events as face
        where face.camera_id = cameras.camera_id
          and face.event_at >= sessions.starts_at
          and face.event_at < sessions.ends_at
          and face.event_type = 'face'
          -- partition pruning on the date= folder (the local date of the events, +-1 day of slack)
          and face.local_date between {{ local_date('sessions.starts_at') }} - 1 and {{ local_date('sessions.ends_at') }} + 1
        offset 0  -- keeps the subquery a per-row index scan (not flattened into a hash join over all events)
    ) as events
    where sessions.is_held_onsite
      and events.trainee_id is not null

)

select
    session_id,
    trainee_id,
    count(*) as face_events,
    max(face_score) as best_face_score,
    max(max(_loaded_at)) over () as _source_loaded_at,
    {{ video_loaded_until_sql() }} as _video_loaded_at,
    {{ run_date_sql() }} as _run_date,
    {{ built_at_sql() }} as _built_at
from face_events_in_window
group by session_id, trainee_id
