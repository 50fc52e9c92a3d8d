-- One row per (camera, local date of the date= folder) holding status events: the instant of the
-- camera's latest status event of that day. fct_session_video_coverage reads it for "the latest
-- status event at or before" a session when the camera sent none in the days just before: one
-- index probe here instead of a backward scan through every day partition of the video events (a
-- camera silent for days, or a site used once a week, made that scan grow with the history).
--
-- Incremental: the camera-days of the lookback window (+-1 day of slack, as the video facts; from
-- the last build's run day where runs skipped days) with events loaded since the last build are
-- aggregated again from their day partitions; the video events are append-only, so no other day
-- changes.
{{ config(
    materialized='incremental',
    unique_key=['camera_id', 'local_date'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=[
        "create index if not exists fct_camera_status_days_camera_at_idx on {{ this }} (camera_id, last_status_at)",
        "create index if not exists fct_camera_status_days_built_at_idx on {{ this }} (_built_at)",
        "create index if not exists fct_camera_status_days_video_loaded_at_idx on {{ this }} (_video_loaded_at)",
        "create index if not exists fct_camera_status_days_run_date_idx on {{ this }} (_run_date)",
    ],
) }}

{#- the window's first folder, or the day after the last build's run day where runs skipped days -#}
{%- set first_day = "least(" ~ lookback_start_sql() ~ ", " ~ last_run_date_sql() ~ " + 1) - 1" if is_incremental() else none %}

with

status_events as (

    select camera_id, local_date, event_at
    from {{ ref('stg_video__events') }}
    where event_type = 'status'
    {% if is_incremental() %}
      and local_date between {{ first_day }} and {{ run_date_sql() }} + 1
      and (camera_id, local_date) in (
          select camera_id, local_date
          from {{ ref('stg_video__events') }}
          where local_date between {{ first_day }} and {{ run_date_sql() }} + 1
            and _loaded_at > {{ built_until_sql('_video_loaded_at') }}
      )
    {% endif %}

)

select
    camera_id,
    local_date,
    max(event_at) as last_status_at,
    count(*) as status_events,
    {{ video_loaded_until_sql() }} as _video_loaded_at,
    {{ run_date_sql() }} as _run_date,
    {{ built_at_sql() }} as _built_at
from status_events
group by camera_id, local_date
