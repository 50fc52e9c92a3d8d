-- One row per session recomputed, with the video figures of RULES.md for held onsite sessions
-- (null for the others): minute coverage (CAMERA_DOWN), the largest headcount (HEADCOUNT_SHORTFALL)
-- and the number of face events (FACE_NOT_SEEN), all from "the site's cameras".
--
-- Coverage, one session at a time: the session's minutes t = starts_at + k min (k = 0 ..
-- floor(minutes) - 1, generate_series) are merged with each site camera's events into one time
-- line per camera; one ordered pass (window functions) carries along "latest status state so far"
-- and "latest event so far". Camera c is up at t when that status is online and the latest event is
-- in (t - camera_up_recent_minutes, t]. An event at exactly t counts (ts <= t), so events sort
-- before a minute at the same instant; status events at the same instant are ordered by delivery
-- (file, line): the last delivered is "the latest". Work is linear in minutes x cameras + events.
--
-- Incremental: see macros/incremental_window.sql (lookback window for late video files, plus
-- sessions/cameras changed since the last build). camera_up_recent_minutes is read here: after
-- changing it, run this model with --full-refresh.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ stage_sessions_to_recompute(video_sessions_to_recompute_sql(unbuilt=true)) }}",
    post_hook=[
        "create index if not exists fct_session_video_coverage_session_idx on {{ this }} (session_id)",
        "create index if not exists fct_session_video_coverage_built_at_idx on {{ this }} (_built_at)",
        "create index if not exists fct_session_video_coverage_video_loaded_at_idx on {{ this }} (_video_loaded_at)",
        "create index if not exists fct_session_video_coverage_run_date_idx on {{ this }} (_run_date)",
        "create index if not exists fct_session_video_coverage_source_loaded_at_idx on {{ this }} (_source_loaded_at)",
    ],
) }}

{%- set recent = "interval '" ~ var('camera_up_recent_minutes') ~ " minutes'" %}

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

held_onsite_sessions as (

    select session_id, site_id, starts_at, ends_at
    from sessions
    where is_held_onsite

),

site_cameras as (

    select
        held_onsite_sessions.session_id,
        held_onsite_sessions.starts_at,
        held_onsite_sessions.ends_at,
        cameras.camera_id
    from held_onsite_sessions
    join cameras on cameras.site_id = held_onsite_sessions.site_id

),

-- a session's site cameras, for the per-session pass below
session_camera_lists as (

    select session_id, starts_at, ends_at, array_agg(camera_id order by camera_id) as camera_ids
    from site_cameras
    group by session_id, starts_at, ends_at

),

-- The figures, one session at a time (lateral): its time line is a few hundred rows per camera,
-- sorted in memory, whatever the number of sessions built. One set-wise sort of every session's
-- time line spilled gigabytes to disk on a go-live and grew faster than the sessions.
session_figures as (

    select session_camera_lists.session_id, figures.*
    from session_camera_lists
    cross join lateral (

        -- the minutes covered and the events in the session's window, in one pass over the time line
        select
            count(distinct minute_at) filter (
                where kind_order = 1
                  and latest_status_state = 'online'
                  and latest_event_at > minute_at - {{ recent }}
            ) as minutes_covered,
            max(headcount) filter (where window_event_type = 'headcount') as max_headcount,
            count(*) filter (where window_event_type = 'headcount') as headcount_events,
            count(*) filter (where window_event_type = 'face') as face_events
        from (

            -- each status_seq group opens with its status event: its state holds for the group
            select
                at as minute_at,
                kind_order,
                latest_event_at,
                window_event_type,
                headcount,
                first_value(status_state) over (
                    partition by camera_id, status_seq
                    order by at, kind_order, file_id, line_no
                ) as latest_status_state
            from (

                -- one ordered pass per camera: the latest event so far, the status events so far
                select
                    camera_id,
                    at,
                    kind_order,
                    file_id,
                    line_no,
                    status_state,
                    window_event_type,
                    headcount,
                    max(event_at) over camera_timeline as latest_event_at,
                    count(*) filter (where is_status) over camera_timeline as status_seq
                from (

                    -- every event of the camera that can decide a minute of the session: those in
                    -- (starts_at - recent, ends_at); one index range scan on (camera_id, ts) each
                    select
                        session_camera.camera_id,
                        near.event_at as at,
                        0 as kind_order,  -- events before minutes at the same instant
                        near.file_id,
                        near.line_no,
                        near.event_type = 'status' as is_status,
                        case when near.event_type = 'status' then near.state end as status_state,
                        near.event_at,
                        case when near.event_at >= session_camera_lists.starts_at then near.event_type end as window_event_type,
                        near.headcount
                    from unnest(session_camera_lists.camera_ids) as session_camera (camera_id)
                    cross join lateral (
                        select events.event_type, events.state, events.headcount, events.event_at, events.file_id, events.line_no
                        from events
                        where events.camera_id = session_camera.camera_id
                          and events.event_at > session_camera_lists.starts_at - {{ recent }}
                          and events.event_at < session_camera_lists.ends_at
                          -- partition pruning on the date= folder (the local date of the events, +-1 day of slack)
                          and events.local_date between {{ local_date('session_camera_lists.starts_at') }} - 1
                                                    and {{ local_date('session_camera_lists.ends_at') }} + 1
                        offset 0  -- keeps the subquery a per-row index scan (not flattened into a hash join over all events)
                    ) as near

                    union all

                    -- the latest status event at or before starts_at - recent
                    select
                        session_camera.camera_id,
                        last_status.event_at,
                        0,
                        last_status.file_id,
                        last_status.line_no,
                        true,
                        last_status.state,
                        last_status.event_at,
                        null,
                        null
                    from unnest(session_camera_lists.camera_ids) as session_camera (camera_id)
                    -- its instant, exactly. A camera reports its status every few minutes, so the
                    -- hour before that instant nearly always holds it: one short index range scan on
                    -- (camera_id, ts). Only where that hour holds none (coalesce evaluates its second
                    -- argument only then): the status events of the date= folders around the session
                    -- (its local date -3 .. +1, one index range scan each, some 700 rows a camera),
                    -- and the latest status of every earlier folder from fct_camera_status_days (one
                    -- index probe). An event's local_date is its folder, within a day of its instant
                    -- (the slack the video facts rely on): a folder before local date - 3 holds no
                    -- status after starts_at - recent, so its day's latest is its latest one at or before.
                    cross join lateral (
                        select coalesce(
                            (select max(last_hour.event_at)
                             from events as last_hour
                             where last_hour.camera_id = session_camera.camera_id
                               and last_hour.event_type = 'status'
                               and last_hour.event_at <= session_camera_lists.starts_at - {{ recent }}
                               and last_hour.event_at > session_camera_lists.starts_at - {{ recent }} - interval '1 hour'
                               and last_hour.local_date
                                   between {{ local_date("(session_camera_lists.starts_at - " ~ recent ~ " - interval '1 hour')") }} - 1
                                       and {{ local_date('session_camera_lists.starts_at') }} + 1),
                            greatest(
                                (select max(near_status.event_at)
                                 from events as near_status
                                 where near_status.camera_id = session_camera.camera_id
                                   and near_status.event_type = 'status'
                                   and near_status.event_at <= session_camera_lists.starts_at - {{ recent }}
                                   and near_status.local_date between {{ local_date('session_camera_lists.starts_at') }} - 3
                                                                  and {{ local_date('session_camera_lists.starts_at') }} + 1),
                                (select max(earlier_days.last_status_at)
                                 from {{ ref('fct_camera_status_days') }} as earlier_days
                                 where earlier_days.camera_id = session_camera.camera_id
                                   and earlier_days.last_status_at <= session_camera_lists.starts_at - {{ recent }}
                                   and earlier_days.local_date < {{ local_date('session_camera_lists.starts_at') }} - 3)
                            )
                        ) as status_at
                        offset 0  -- computed once: flattened, the lookup ran again for each use of status_at below
                    ) as latest
                    -- the last delivered status event at that instant
                    cross join lateral (
                        select events.state, events.event_at, events.file_id, events.line_no
                        from events
                        where events.camera_id = session_camera.camera_id
                          and events.event_type = 'status'
                          and events.event_at = latest.status_at
                          and events.local_date between {{ local_date('latest.status_at') }} - 1 and {{ local_date('latest.status_at') }} + 1
                        order by events.file_id desc, events.line_no desc
                        limit 1
                    ) as last_status

                    union all

                    -- the session's minutes t = starts_at + k min, for each camera
                    select
                        session_camera.camera_id,
                        session_camera_lists.starts_at + k * interval '1 minute',
                        1,
                        null,
                        null,
                        false,
                        null,
                        null,
                        null,
                        null
                    from unnest(session_camera_lists.camera_ids) as session_camera (camera_id)
                    cross join generate_series(
                        0,
                        floor(extract(epoch from session_camera_lists.ends_at - session_camera_lists.starts_at) / 60)::integer - 1
                    ) as k

                ) as camera_timeline
                window camera_timeline as (
                    partition by camera_id
                    order by at, kind_order, file_id, line_no
                    rows between unbounded preceding and current row
                )

            ) as camera_timeline_swept

        ) as camera_state_at_minute

    ) as figures

),

camera_counts as (

    select session_id, cardinality(camera_ids)::bigint as site_cameras  -- count(*) of the cameras, as before
    from session_camera_lists

),

source_high_water as (

    select greatest(
        (select max(_loaded_at) from sessions),
        (select max(cameras._loaded_at) from cameras join sessions on sessions.site_id = cameras.site_id)
    ) as _source_loaded_at

),

final as (

    select
        sessions.session_id,
        sessions.is_held_onsite,
        case when sessions.is_held_onsite then coalesce(camera_counts.site_cameras, 0) end as site_cameras,
        case when sessions.is_held_onsite
            then greatest(floor(extract(epoch from sessions.ends_at - sessions.starts_at) / 60)::integer, 0)
        end as minutes_total,
        case when sessions.is_held_onsite then coalesce(session_figures.minutes_covered, 0) end as minutes_covered,
        session_figures.max_headcount,
        case when sessions.is_held_onsite then coalesce(session_figures.headcount_events, 0) end as headcount_events,
        case when sessions.is_held_onsite then coalesce(session_figures.face_events, 0) end as face_events,
        source_high_water._source_loaded_at
    from sessions
    cross join source_high_water
    left join camera_counts on camera_counts.session_id = sessions.session_id
    left join session_figures on session_figures.session_id = sessions.session_id

)

select
    session_id,
    is_held_onsite,
    site_cameras,
    minutes_total,
    minutes_covered,
    minutes_total - minutes_covered as minutes_uncovered,
    max_headcount,
    headcount_events,
    face_events,
    _source_loaded_at,
    {{ video_loaded_until_sql() }} as _video_loaded_at,
    {{ run_date_sql() }} as _run_date,
    {{ built_at_sql() }} as _built_at
from final
