-- CONCURRENT_CHECKIN (RULES.md): a trainee (same trainee_id) checked in to two different
-- non-cancelled sessions whose windows overlap (a.start < b.end and b.start < a.end).
-- entity_key trainee_id|session_a|session_b with session_a < session_b; district: session_a's.
-- occurred_on: local date the overlap begins (the later of the two starts).
with

checked_in_sessions as (

    select * from {{ ref('int_sessions_checked_in_by_trainee') }}

),

overlapping_pairs as (

    select distinct
        session_a.trainee_id,
        session_a.session_id as session_a,
        session_b.session_id as session_b,
        session_a.district_code,
        session_a.starts_at as a_starts_at,
        session_a.ends_at as a_ends_at,
        session_b.starts_at as b_starts_at,
        session_b.ends_at as b_ends_at
    from checked_in_sessions as session_a
    join checked_in_sessions as session_b
        on session_b.trainee_id = session_a.trainee_id
        and session_b.window_day = session_a.window_day
        and session_a.session_id < session_b.session_id
    where session_a.starts_at < session_b.ends_at
      and session_b.starts_at < session_a.ends_at

)

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
