-- One row per training session (latest version) with its class's institution and the district
-- an alert about it goes to: RULES.md "session ... -> the session's site (the class's
-- institution if the site is unknown)".
-- Indexed on (session_id, class_id): the per-session models read the sessions of their recompute
-- set (a few hundred a day) by id; without the index each read scanned every session of the history.
{{ config(post_hook="create index if not exists fct_sessions_session_idx on {{ this }} (session_id, class_id)") }}
with

sessions as (

    select * from {{ ref('stg_training__sessions') }}

),

classes as (

    select * from {{ ref('stg_training__classes') }}

),

sites as (

    select * from {{ ref('stg_training__sites') }}

),

institutions as (

    select * from {{ ref('stg_training__institutions') }}

)

select
    sessions.session_id,
    sessions.class_id,
    classes.institution_id,
    sessions.site_id,
    sites.institution_id as site_institution_id,
    case
        when sites.site_id is not null then sites.district_code
        else institutions.district_code
    end as district_code,
    sessions.delivery,
    sessions.status,
    floor(extract(epoch from (sessions.ends_at - sessions.starts_at)) / 60)::integer as whole_minutes,
    sessions.is_held_onsite,
    sessions.status = 'held' as is_held,
    sessions.status = 'cancelled' as is_cancelled,
    sites.site_id is not null as is_site_known,
    sites.is_registered as is_site_registered,
    classes.class_id is not null as is_class_known,
    sessions.starts_on,
    sessions.starts_at,
    sessions.ends_at
from sessions
left join classes on classes.class_id = sessions.class_id
left join sites on sites.site_id = sessions.site_id
left join institutions on institutions.institution_id = classes.institution_id
