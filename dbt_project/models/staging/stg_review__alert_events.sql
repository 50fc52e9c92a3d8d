-- The review audit trail (review.alert_events): every triage action on an alert. The review
-- schema is installed by the review application and by `supervision roles`; a warehouse where it
-- is not yet installed reads no rows, so the precision marts build (with every alert open).
-- A table, unlike the rest of staging: a daily build rebuilds tables but not the views on sources
-- (supervision.dbt_daily), and the review schema may be applied after a full build (by the review
-- application, or by sync_roles after the marts' build): a view made before it would keep reading
-- no rows until the next code change, and the times to decision would stay empty.
{{ config(tags=['after_alerts'], materialized='table') }}

{%- set events_relation = load_relation(source('review', 'alert_events')) %}

with

source as (

{%- if events_relation is not none %}

    select * from {{ source('review', 'alert_events') }}

{%- else %}

    select
        null::bigint as event_id,
        null::text as alert_id,
        null::text as district_code,
        null::timestamptz as at,
        null::text as username,
        null::text as action,
        null::text as from_status,
        null::text as to_status,
        null::text as assignee,
        null::text as comment
    where false

{%- endif %}

),

renamed as (

    select
        event_id,
        alert_id,
        district_code,
        username,
        action,
        from_status,
        to_status,
        comment,
        at as acted_at
    from source

)

select * from renamed
