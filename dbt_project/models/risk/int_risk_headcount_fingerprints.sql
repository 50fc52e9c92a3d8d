-- Fingerprints of the cameras' minute-by-minute headcount series, for the looped-feed feature
-- `headcount_loop` (docs/RISK.md): one row per kept window of a held onsite session's series from
-- one camera of its site.
--
--   series      = one headcount per minute of the session (minute = floor((ts - starts_at) / 60 s);
--                 of several events in a minute, the last delivered), per (session, camera)
--   window      = risk_loop_window_minutes (45) consecutive minutes of a series, without a gap
--   fingerprint = the first 64 bits of md5 of the window's counts: equal fingerprints, equal windows
--   changes     = minute-to-minute changes of the count within the window (a moving sum)
--   kept        = winnowing (Schleimer, Wilkerson and Aiken, 2003) over the windows with
--                 >= risk_loop_min_changes (10) changes: of every risk_loop_winnow (16) consecutive
--                 such windows, the one(s) with the smallest fingerprint; of a run of equal kept
--                 fingerprints, the first. Which windows are kept depends on the counts only, so
--                 two series sharing a run of 16 such windows (an hour of a noisy counter: 45 + 16
--                 - 1 minutes) keep a common fingerprint, while about 2 in 17 windows are stored and
--                 only windows with enough changes are hashed. A series without such a window keeps
--                 its first window (not varied), so that its session counts among the observed.
--   is_varied   = changes >= risk_loop_min_changes and >= risk_loop_min_values (3) distinct
--                 counts: a flat or two-valued series (a quiet full room, a frozen counter, a
--                 steady class with a few late arrivals, a flickering count) repeats by itself and
--                 is no fingerprint
--
-- A session whose cameras hold no window (none of 45 gap-free minutes) has no row.
--
-- Each series is computed on its own (a lateral subquery per session camera: one index range scan
-- of its events, its windows sorted in memory), so a full build's cost grows with the sessions, not
-- with a sort of every minute of the history (decision 0052).
--
-- Incremental per session, as fct_session_video_coverage (macros/incremental_window.sql): a run
-- recomputes the sessions of the late-arrival window whose cameras got events since the last
-- build, the days a run skipped, and sessions or cameras reloaded since; a pre-hook deletes their
-- rows first. The daily cost follows a day of video, not the month: int_risk_institution_measures
-- recomputes the month from these stored rows.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    schema='intermediate',
    on_schema_change='append_new_columns',
    pre_hook="{{ stage_sessions_to_recompute(video_sessions_to_recompute_sql(), indexed=true) }}",
    post_hook=[
        "create index if not exists int_risk_headcount_fingerprints_fingerprint_idx
         on {{ this }} (fingerprint) where is_varied",
        "create index if not exists int_risk_headcount_fingerprints_session_idx on {{ this }} (session_id)",
        "create index if not exists int_risk_headcount_fingerprints_month_idx on {{ this }} (month)",
        "create index if not exists int_risk_headcount_fingerprints_video_loaded_at_idx on {{ this }} (_video_loaded_at)",
        "create index if not exists int_risk_headcount_fingerprints_run_date_idx on {{ this }} (_run_date)",
        "create index if not exists int_risk_headcount_fingerprints_source_loaded_at_idx on {{ this }} (_source_loaded_at)",
    ],
) }}
{%- set window_minutes = var('risk_loop_window_minutes', 45) | int %}
{%- set winnow = var('risk_loop_winnow', 16) | int %}
{%- set min_changes = var('risk_loop_min_changes', 10) %}
{%- set min_values = var('risk_loop_min_values', 3) %}

with

-- the held onsite sessions up to the run's day (a later one has no video yet)
held_onsite_sessions as (

    select
        sessions.session_id,
        sessions.institution_id,
        sessions.site_id,
        sessions.starts_at,
        sessions.ends_at,
        {{ local_month('sessions.starts_on') }} as month
    from {{ ref('fct_sessions') }} as sessions
    where sessions.is_held_onsite
      and sessions.institution_id is not null
      and sessions.starts_on <= {{ run_date_sql() }}
      and sessions.ends_at - sessions.starts_at >= interval '{{ window_minutes }} minutes'
    {% if is_incremental() %}
      and sessions.session_id in (select session_id from {{ sessions_to_recompute_relation() }})
    {% endif %}

),

cameras as (

    select * from {{ ref('stg_training__cameras') }}

),

-- every camera of a held session's site: one series each
session_cameras as (

    select
        held_onsite_sessions.session_id,
        held_onsite_sessions.institution_id,
        held_onsite_sessions.month,
        held_onsite_sessions.starts_at,
        held_onsite_sessions.ends_at,
        cameras.camera_id
    from held_onsite_sessions
    join cameras on cameras.site_id = held_onsite_sessions.site_id

),

-- the kept windows, computed per series (session, camera): a few hundred minutes sorted in memory,
-- where a set-wise pass sorted every series of the build at once (a quarter's go-live: tens of
-- millions of minutes, spilled to disk; decision 0052)
kept as (

    select
        session_cameras.institution_id,
        session_cameras.month,
        session_cameras.session_id,
        session_cameras.camera_id,
        session_cameras.starts_at,
        series_kept.minute,
        series_kept.changes,
        series_kept.counts,
        series_kept.fingerprint,
        series_kept.previous_kept
    from session_cameras
    cross join lateral (

        with

        -- one headcount per minute: one index range scan on (camera_id, ts)
        minute_counts as (

            select distinct on (1)
                floor(extract(epoch from events.event_at - session_cameras.starts_at) / 60)::integer as minute,
                events.headcount
            from {{ ref('stg_video__events') }} as events
            where events.camera_id = session_cameras.camera_id
              and events.event_type = 'headcount'
              and events.headcount is not null
              and events.event_at >= session_cameras.starts_at
              and events.event_at < session_cameras.ends_at
              -- partition pruning on the date= folder (the events' local date, +-1 day of slack)
              and events.local_date between {{ local_date('session_cameras.starts_at') }} - 1
                                        and {{ local_date('session_cameras.ends_at') }} + 1
            order by 1, events.event_at desc, events.file_id desc, events.line_no desc

        ),

        -- per minute: its position in the series, the minute a window starting here would end at
        -- (gap-free when it is minute + window - 1), and whether the count changed from the minute
        -- before
        numbered as (

            select
                minute,
                headcount,
                row_number() over series as position,
                lead(minute, {{ window_minutes - 1 }}) over series as window_last_minute,
                case when headcount <> lag(headcount) over series then 1 else 0 end as changed
            from minute_counts
            window series as (order by minute)

        ),

        -- every window of consecutive minutes, with its changes (a moving sum: one step per minute)
        windows as (

            select
                minute, position, changes,
                row_number() over (order by minute) as window_rank,
                bool_or(changes >= {{ min_changes }}) over () as series_has_changes
            from (
                select
                    numbered.*,
                    sum(changed) over (
                        order by minute
                        rows between 1 following and {{ window_minutes - 1 }} following) as changes
                from numbered
            ) as with_changes
            where window_last_minute = minute + {{ window_minutes - 1 }}

        ),

        -- the windows fingerprinted: those with enough changes to be varied, and the first window
        -- of a series without any (one row, so that its session counts in n)
        hashed as (

            select
                windows.minute,
                windows.changes,
                slice.counts,
                ('x' || left(md5(array_to_string(slice.counts, ',')), 16))::bit(64)::bigint as fingerprint
            from windows
            cross join (select array_agg(headcount order by minute) as counts from minute_counts) as series
            cross join lateral (
                select series.counts[windows.position:windows.position + {{ window_minutes - 1 }}] as counts
            ) as slice
            where windows.changes >= {{ min_changes }}
               or (not windows.series_has_changes and windows.window_rank = 1)

        ),

        -- winnowing over the windows with enough changes (whether a window is one depends on its
        -- counts only, so two series sharing a run share these windows): frame_min = the smallest
        -- fingerprint of the frame of winnow such windows starting here; a window is kept when it
        -- is the smallest of a frame holding it, i.e. when it equals the largest frame_min of the
        -- frames that hold it
        winnowed as (

            select
                framed.*,
                max(frame_min) over (
                    order by minute
                    rows between {{ winnow - 1 }} preceding and current row) as kept_min
            from (
                select
                    hashed.*,
                    min(fingerprint) over (
                        order by minute
                        rows between current row and {{ winnow - 1 }} following) as frame_min
                from hashed
                where changes >= {{ min_changes }}
            ) as framed

        )

        select
            minute, changes, counts, fingerprint,
            lag(fingerprint) over (order by minute) as previous_kept
        from winnowed
        where fingerprint = kept_min

        union all

        select minute, changes, counts, fingerprint, null
        from hashed
        where changes < {{ min_changes }}

    ) as series_kept

),

-- the newest stamp of the sessions and cameras read (the next build recomputes what is newer)
source_high_water as (

    select greatest(
        (select max(sessions._loaded_at) from {{ ref('stg_training__sessions') }} as sessions
         where sessions.session_id in (select session_id from held_onsite_sessions)),
        (select max(cameras._loaded_at) from cameras
         where cameras.site_id in (select site_id from held_onsite_sessions))
    ) as _source_loaded_at

)

select
    kept.institution_id,
    kept.month,
    kept.session_id,
    kept.camera_id,
    kept.starts_at + kept.minute * interval '1 minute' as window_start_at,
    kept.fingerprint,
    kept.changes::integer as changes,
    shape.distinct_counts,
    kept.changes >= {{ min_changes }} and shape.distinct_counts >= {{ min_values }} as is_varied,
    source_high_water._source_loaded_at,
    {{ video_loaded_until_sql() }} as _video_loaded_at,
    {{ run_date_sql() }} as _run_date
from kept
cross join source_high_water
cross join lateral (
    select count(distinct counts.headcount)::integer as distinct_counts
    from unnest(kept.counts) as counts (headcount)
) as shape
where kept.previous_kept is distinct from kept.fingerprint
