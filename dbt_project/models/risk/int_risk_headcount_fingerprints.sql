-- Fingerprints of the cameras' minute-by-minute headcount series, for the looped-feed feature
-- `headcount_loop` (docs/RISK.md): one row per kept window of a held onsite session's series from
-- one camera of its site.
--
--   series      = one headcount per minute of the session (minute = floor((ts - starts_at) / 60 s);
--                 of several events in a minute, the last delivered), per (session, camera)
--   window      = risk_loop_window_minutes (45) consecutive minutes of a series, without a gap
--   fingerprint = the first 64 bits of md5 of the window's counts: equal fingerprints, equal windows
--   kept        = winnowing (Schleimer, Wilkerson and Aiken, 2003): of every risk_loop_winnow (16)
--                 consecutive windows, the one(s) with the smallest fingerprint; of a run of equal
--                 kept fingerprints, the first. Selection depends on the counts only, so two series
--                 sharing any run of window + winnow - 1 = 60 minutes keep a common fingerprint,
--                 while about 2 / (winnow + 1) of the windows are stored
--   is_varied   = the window has >= risk_loop_min_changes (10) minute-to-minute changes and
--                 >= risk_loop_min_values (3) distinct counts: a flat or two-valued series (a
--                 quiet full room, a frozen counter, a steady class with a few late arrivals)
--                 repeats by itself and is no fingerprint
--
-- A session whose cameras hold no window (none of 45 gap-free minutes) has no row. Incremental by
-- month (delete+insert) like int_risk_institution_measures, which matches these rows against the
-- institution's earlier ones.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='month',
    schema='intermediate',
    on_schema_change='append_new_columns',
    post_hook=["create index if not exists int_risk_headcount_fingerprints_match_idx
                on {{ this }} (institution_id, fingerprint) where is_varied"],
) }}
{%- set first_month = risk_first_month("(select max(starts_on) from " ~ ref('fct_sessions') ~ ")") %}
{%- set window_minutes = var('risk_loop_window_minutes', 45) | int %}
{%- set winnow = var('risk_loop_winnow', 16) | int %}
{%- set min_changes = var('risk_loop_min_changes', 10) %}
{%- set min_values = var('risk_loop_min_values', 3) %}

with

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
      and sessions.starts_on >= ({{ first_month }})
      and sessions.ends_at - sessions.starts_at >= interval '{{ window_minutes }} minutes'

),

-- one headcount per (session, camera, minute): one index range scan on (camera_id, ts) per
-- session camera, as fct_session_video_coverage reads the events
minute_counts as (

    select
        held_onsite_sessions.session_id,
        held_onsite_sessions.institution_id,
        held_onsite_sessions.month,
        held_onsite_sessions.starts_at,
        cameras.camera_id,
        counts.minute,
        counts.headcount
    from held_onsite_sessions
    join {{ ref('dim_cameras') }} as cameras on cameras.site_id = held_onsite_sessions.site_id
    cross join lateral (
        select distinct on (1)
            floor(extract(epoch from events.event_at - held_onsite_sessions.starts_at) / 60)::integer as minute,
            events.headcount
        from {{ ref('stg_video__events') }} as events
        where events.camera_id = cameras.camera_id
          and events.event_type = 'headcount'
          and events.headcount is not null
          and events.event_at >= held_onsite_sessions.starts_at
          and events.event_at < held_onsite_sessions.ends_at
          -- partition pruning on the date= folder (the events' local date, +-1 day of slack)
          and events.local_date between {{ local_date('held_onsite_sessions.starts_at') }} - 1
                                    and {{ local_date('held_onsite_sessions.ends_at') }} + 1
        order by 1, events.event_at desc, events.file_id desc, events.line_no desc
    ) as counts

),

numbered as (

    select
        minute_counts.*,
        row_number() over series as position,
        lead(minute, {{ window_minutes - 1 }}) over series as window_last_minute
    from minute_counts
    window series as (partition by session_id, camera_id order by minute)

),

series as (

    select session_id, camera_id, array_agg(headcount order by minute) as counts
    from minute_counts
    group by session_id, camera_id
    having count(*) >= {{ window_minutes }}

),

-- every window of consecutive minutes (the series' slice from the window's first minute)
windows as (

    select
        numbered.institution_id,
        numbered.month,
        numbered.session_id,
        numbered.camera_id,
        numbered.minute,
        numbered.starts_at + numbered.minute * interval '1 minute' as window_start_at,
        series.counts[numbered.position:numbered.position + {{ window_minutes - 1 }}] as counts
    from numbered
    join series on series.session_id = numbered.session_id and series.camera_id = numbered.camera_id
    where numbered.window_last_minute = numbered.minute + {{ window_minutes - 1 }}

),

hashed as (

    select
        windows.*,
        ('x' || left(md5(array_to_string(windows.counts, ',')), 16))::bit(64)::bigint as fingerprint
    from windows

),

-- winnowing: frame_min = the smallest fingerprint of the frame of winnow windows starting here; a
-- window is kept when it is the smallest of a frame holding it, i.e. when it equals the largest
-- frame_min of the frames that hold it
framed as (

    select
        hashed.*,
        min(fingerprint) over (
            partition by session_id, camera_id order by minute
            rows between current row and {{ winnow - 1 }} following) as frame_min
    from hashed

),

winnowed as (

    select
        framed.*,
        max(frame_min) over (
            partition by session_id, camera_id order by minute
            rows between {{ winnow - 1 }} preceding and current row) as kept_min
    from framed

),

kept as (

    select
        winnowed.*,
        lag(fingerprint) over (partition by session_id, camera_id order by minute) as previous_kept
    from winnowed
    where fingerprint = kept_min

)

select
    kept.institution_id,
    kept.month,
    kept.session_id,
    kept.camera_id,
    kept.window_start_at,
    kept.fingerprint,
    shape.changes,
    shape.distinct_counts,
    shape.changes >= {{ min_changes }} and shape.distinct_counts >= {{ min_values }} as is_varied
from kept
cross join lateral (
    select
        count(*) filter (where steps.headcount <> steps.previous) as changes,
        count(distinct steps.headcount) as distinct_counts
    from (
        select counts.headcount, lag(counts.headcount) over (order by counts.position) as previous
        from unnest(kept.counts) with ordinality as counts (headcount, position)
    ) as steps
) as shape
where kept.previous_kept is distinct from kept.fingerprint
