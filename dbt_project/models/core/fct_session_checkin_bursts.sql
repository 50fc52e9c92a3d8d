-- One row per (session, check-in device): the largest number of check_in rows of the session
-- from that device captured within `burst_seconds` of each other (CHECKIN_BURST).
-- A set of k rows has max - min <= S exactly when, anchored at its earliest row r, all k lie in
-- [r, r + S]; so the largest burst is the largest count of rows in [captured_at, captured_at + S]
-- over the device's rows: one window function, no self-join.
-- burst_seconds is read here: after changing it, run this model with --full-refresh.
-- Incremental per session like fct_session_checkins (staged sessions read and deleted through the
-- session_id indexes, the mark `_source_loaded_at` indexed).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ stage_sessions_to_recompute(attendance_sessions_to_recompute_sql(), indexed=true) }}",
    post_hook=[
        "create index if not exists fct_session_checkin_bursts_session_idx on {{ this }} (session_id)",
        "create index if not exists fct_session_checkin_bursts_built_at_idx on {{ this }} (_built_at)",
        "create index if not exists fct_session_checkin_bursts_source_loaded_at_idx on {{ this }} (_source_loaded_at)",
    ],
) }}

with

check_ins as (

    select * from {{ ref('fct_attendance') }}
    where event = 'check_in'
    {% if is_incremental() %}
      and session_id = any(array(select session_id from {{ sessions_to_recompute_relation() }}))
    {% endif %}

),

check_ins_within_burst as (

    select
        session_id,
        device_id,
        captured_at,
        _loaded_at,
        count(*) over (
            partition by session_id, device_id
            order by captured_at
            range between current row and interval '{{ var("burst_seconds") }} seconds' following
        ) as check_ins_in_burst
    from check_ins

),

largest_burst_per_device as (

    select distinct on (session_id, device_id)
        session_id,
        device_id,
        check_ins_in_burst as largest_burst,
        captured_at as largest_burst_started_at,
        count(*) over (partition by session_id, device_id) as check_ins,
        max(_loaded_at) over () as _source_loaded_at
    from check_ins_within_burst
    order by session_id, device_id, check_ins_in_burst desc, captured_at

)

select
    session_id,
    device_id,
    check_ins,
    largest_burst,
    largest_burst_started_at,
    _source_loaded_at,
    {{ built_at_sql() }} as _built_at
from largest_burst_per_device
