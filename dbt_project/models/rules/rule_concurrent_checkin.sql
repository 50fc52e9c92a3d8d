-- CONCURRENT_CHECKIN (RULES.md): a trainee (same trainee_id) checked in to two different
-- non-cancelled sessions whose windows overlap (a.start < b.end and b.start < a.end).
-- entity_key trainee_id|session_a|session_b with session_a < session_b; district: session_a's.
-- occurred_on: local date the overlap begins (the later of the two starts).
-- Incremental (macros/incremental_rules.sql): a pair is decided by its two sessions' rows alone,
-- so a run deletes the pairs of the sessions whose inputs changed and searches again only the
-- pairs with at least one such session.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ stage_recompute(session_change_sources(), session_inputs_changed_sql(), [entity_key_part(2), entity_key_part(3)]) }}",
    post_hook="{{ record_marks() }}",
) }}
{{ change_source_refs(session_change_sources()) }}

{%- set pair_columns %}
        session_a.trainee_id,
        session_a.session_id as session_a,
        session_b.session_id as session_b,
        session_a.district_code,
        session_a.starts_at as a_starts_at,
        session_a.ends_at as a_ends_at,
        session_b.starts_at as b_starts_at,
        session_b.ends_at as b_ends_at
{%- endset %}
{%- set pair_join_and_overlap %}
        on session_b.trainee_id = session_a.trainee_id
        and session_b.window_day = session_a.window_day
        and session_a.session_id < session_b.session_id
    where session_a.starts_at < session_b.ends_at
      and session_b.starts_at < session_a.ends_at
{%- endset %}

with

{% if is_incremental() %}
recomputed_sessions as (

    select * from {{ ref('int_sessions_checked_in_by_trainee') }}
    where session_id in {{ recompute_keys() }}

),

-- every other checked-in session of the same trainee and day that overlaps a recomputed one
overlaps_of_recomputed as (

    select
        recomputed.trainee_id,
        recomputed.session_id as recomputed_id,
        recomputed.district_code as recomputed_district_code,
        recomputed.starts_at as recomputed_starts_at,
        recomputed.ends_at as recomputed_ends_at,
        other.session_id as other_id,
        other.district_code as other_district_code,
        other.starts_at as other_starts_at,
        other.ends_at as other_ends_at
    from recomputed_sessions as recomputed
    -- lateral: one index lookup on (trainee_id, window_day) per row, whatever the history
    cross join lateral (
        select session_id, district_code, starts_at, ends_at
        from {{ ref('int_sessions_checked_in_by_trainee') }} as other
        where other.trainee_id = recomputed.trainee_id
          and other.window_day = recomputed.window_day
          and other.session_id <> recomputed.session_id
        offset 0  -- keeps the subquery a per-row index scan (not a hash join over the whole table)
    ) as other
    where recomputed.starts_at < other.ends_at
      and other.starts_at < recomputed.ends_at

),

-- as pairs (session_a < session_b), the columns of each side
overlapping_pairs as (

    select distinct
        trainee_id,
        least(recomputed_id, other_id) as session_a,
        greatest(recomputed_id, other_id) as session_b,
        case when recomputed_id < other_id then recomputed_district_code else other_district_code end as district_code,
        case when recomputed_id < other_id then recomputed_starts_at else other_starts_at end as a_starts_at,
        case when recomputed_id < other_id then recomputed_ends_at else other_ends_at end as a_ends_at,
        case when recomputed_id < other_id then other_starts_at else recomputed_starts_at end as b_starts_at,
        case when recomputed_id < other_id then other_ends_at else recomputed_ends_at end as b_ends_at
    from overlaps_of_recomputed

)
{% else %}
checked_in_sessions as (

    select * from {{ ref('int_sessions_checked_in_by_trainee') }}

),

overlapping_pairs as (

    select distinct {{ pair_columns }}
    from checked_in_sessions as session_a
    join checked_in_sessions as session_b {{ pair_join_and_overlap }}

)
{% endif %}

select
    'CONCURRENT_CHECKIN'::text as rule_code,
    'trainee_sessions'::text as entity_type,
    trainee_id || '|' || session_a || '|' || session_b as entity_key,
    district_code,
    {{ local_date('greatest(a_starts_at, b_starts_at)') }} as occurred_on,
    jsonb_build_object(
        'session_a', jsonb_build_object('session_id', session_a, 'starts_at', a_starts_at, 'ends_at', a_ends_at),
        'session_b', jsonb_build_object('session_id', session_b, 'starts_at', b_starts_at, 'ends_at', b_ends_at)
    ) as evidence
from overlapping_pairs
where district_code is not null
