-- One row per (incremental rule model, change source): how far the model has read that source's
-- _loaded_at stamps. Written only by the rules' hooks (macros/incremental_rules.sql); building
-- this model adds no row, and a --full-refresh empties it (the next run then recomputes every
-- entity of every incremental rule, which is always correct).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    post_hook=["create unique index if not exists incremental_marks_key_idx on {{ this }} (model_name, source_name)"],
) }}

select
    null::text as model_name,
    null::text as source_name,
    null::timestamptz as built_until
where false
