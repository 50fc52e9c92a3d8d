-- One row per (session, trainee) with any attendance row: the figures the attendance rules
-- compare. "Checked in" (RULES.md) = at least one check_in row. Incremental per session: the
-- sessions whose attendance was (re)loaded since the last build are rebuilt whole. The staged
-- sessions are read from fct_attendance and deleted here as `= any(array(...))`, through the
-- session_id indexes, and the high-water mark `_source_loaded_at` is indexed (max() is one probe):
-- a semi-join on the staged set and an unindexed mark were scans of the whole history. The
-- session index carries trainee_id and is_checked_in, so that a session's checked-in trainees
-- (FACE_NOT_SEEN and the other attendance rules) are read from the index alone.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ stage_sessions_to_recompute(attendance_sessions_to_recompute_sql(), indexed=true) }}",
    post_hook=[
        "create index if not exists fct_session_checkins_session_trainee_idx on {{ this }} (session_id, trainee_id) include (is_checked_in)",
        "create index if not exists fct_session_checkins_built_at_idx on {{ this }} (_built_at)",
        "create index if not exists fct_session_checkins_source_loaded_at_idx on {{ this }} (_source_loaded_at)",
        "create index if not exists fct_session_checkins_trainee_idx on {{ this }} (trainee_id)",
    ],
) }}

with

attendance as (

    select * from {{ ref('fct_attendance') }}
    {% if is_incremental() %}
    where session_id = any(array(select session_id from {{ sessions_to_recompute_relation() }}))
    {% endif %}

),

per_session_trainee as (

    select
        session_id,
        trainee_id,
        count(*) filter (where event = 'check_in') as check_in_rows,
        count(*) filter (where event = 'check_out') as check_out_rows,
        min(captured_at) filter (where event = 'check_in') as first_check_in_at,
        max(captured_at) filter (where event = 'check_out') as last_check_out_at,
        max(_loaded_at) as _loaded_at
    from attendance
    group by session_id, trainee_id

)

select
    session_id,
    trainee_id,
    check_in_rows,
    check_out_rows,
    check_in_rows > 0 as is_checked_in,
    first_check_in_at,
    last_check_out_at,
    -- high-water mark of this build (same on every row of the batch): what was read
    max(_loaded_at) over () as _source_loaded_at,
    {{ built_at_sql() }} as _built_at
from per_session_trainee
