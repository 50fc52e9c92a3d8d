-- One row per (session, class the session was ever seen in): a session moved to another class
-- keeps its old row, so INSUFFICIENT_HOURS can recompute the claims of the class it left (the
-- latest version alone no longer names it). _loaded_at: the latest load that saw the pair.
{{ config(
    materialized='incremental',
    unique_key=['session_id', 'class_id'],
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    post_hook=[
        "create unique index if not exists int_session_class_assignments_key_idx on {{ this }} (session_id, class_id)",
        "create index if not exists int_session_class_assignments_loaded_at_idx on {{ this }} (_loaded_at)",
        "create index if not exists int_session_class_assignments_built_at_idx on {{ this }} (_built_at)",
    ],
) }}

select
    session_id,
    class_id,
    _loaded_at,
    {{ built_at_sql() }} as _built_at
from {{ ref('stg_training__sessions') }}
{% if is_incremental() %}
where _loaded_at > {{ built_until_sql('_loaded_at') }}
{% endif %}
