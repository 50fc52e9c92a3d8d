-- The standing risk review verdicts (review.risk_verdicts): one row per risk finding (a training
-- institution or an evaluation org in a month) that a supervisor has decided, kept by the database
-- from the append-only review.risk_verdict_events. A warehouse where the review schema (or this
-- table) is not yet installed reads no rows, so the precision marts build without any verdict.
-- A table, unlike the rest of staging: a daily build rebuilds tables but not the views on sources
-- (supervision.dbt_daily), and the review schema may be applied after a full build (by the review
-- application, or by sync_roles after the marts' build): a view made before it would keep reading
-- no rows until the next code change. The table is small (one row per decided finding).
{{ config(tags=['after_alerts'], materialized='table') }}

{%- set verdicts_relation = load_relation(source('review', 'risk_verdicts')) %}

with

source as (

{%- if verdicts_relation is not none %}

    select * from {{ source('review', 'risk_verdicts') }}

{%- else %}

    select
        null::text as entity_type,
        null::text as entity_id,
        null::date as month,
        null::text as district_code,
        null::text as verdict,
        null::text as comment,
        null::text as decided_by,
        null::timestamptz as decided_at,
        null::bigint as event_id
    where false

{%- endif %}

),

renamed as (

    select
        -- ids
        event_id,
        entity_type,
        entity_id,
        district_code,
        -- strings
        verdict,
        comment,
        decided_by,
        -- dates and timestamps
        month,
        decided_at
    from source

)

select * from renamed
