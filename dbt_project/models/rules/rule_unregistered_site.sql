-- UNREGISTERED_SITE (RULES.md): a held onsite session whose site is unknown, not registered, or
-- belongs to another institution than the session's class (that clause needs the class).
-- District: the site's, else the class's institution's (a session with neither does not fire).
-- occurred_on: local date the session starts.
-- Incremental per session (macros/incremental_rules.sql): a run recomputes the sessions whose inputs changed.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ stage_recompute(session_change_sources(), session_inputs_changed_sql()) }}",
    post_hook="{{ record_marks() }}",
) }}
{{ change_source_refs(session_change_sources()) }}

with

held_onsite_sessions as (

    select * from {{ ref('fct_sessions') }}
    where is_held_onsite{{ and_recomputed('session_id') }}

),

site_problems as (

    select
        *,
        case
            when not is_site_known then 'site_unknown'
            when not is_site_registered then 'site_not_registered'
            when is_class_known and site_institution_id is distinct from institution_id then 'site_of_other_institution'
        end as problem
    from held_onsite_sessions

)

select
    'UNREGISTERED_SITE'::text as rule_code,
    'session'::text as entity_type,
    session_id as entity_key,
    district_code,
    starts_on as occurred_on,
    jsonb_build_object(
        'problem', problem,
        'site_id', site_id,
        'site_institution_id', site_institution_id,
        'class_institution_id', institution_id
    ) as evidence
from site_problems
where problem is not null
  and district_code is not null
