-- EXAM_DURING_TRAINING (RULES.md): the candidate (same person = same person_key, any of the
-- person's trainee_ids) checked in to a non-cancelled training session whose window overlaps the
-- exam session's window (a.start < b.end and b.start < a.end). Needs the exam's window.
-- District: the exam's evaluation org. occurred_on: local date the exam starts.
-- Incremental per result (macros/incremental_rules.sql): a run recomputes the results whose
-- inputs changed (exam_training_inputs_changed_sql). The recomputed results are materialized
-- first (as in rule_face_not_seen): inlined, the planner joined every result of the history with
-- its candidates' check-ins and applied the staged set last (343 k results for 5 k staged, 3.5 s
-- on a quarter's day).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ stage_recompute(['exam_results', 'exam_sessions', 'evaluation_orgs', 'trainees'] + session_change_sources(), exam_training_inputs_changed_sql()) }}",
    post_hook="{{ record_marks() }}",
) }}
{{ change_source_refs(['exam_results', 'exam_sessions', 'evaluation_orgs', 'trainees'] + session_change_sources()) }}

with

results as materialized (

    select * from {{ ref('fct_exam_results') }}
    where exam_starts_at is not null
      and exam_ends_at is not null{{ and_recomputed('result_id') }}

),

trainees as (

    select trainee_id, person_key from {{ ref('dim_trainees') }}

),

checked_in_sessions as (

    select * from {{ ref('int_sessions_checked_in_by_trainee') }}

),

exam_days as (

    -- the local days the exam window touches (see int_sessions_checked_in_by_trainee for why)
    select
        results.result_id,
        results.person_key,
        results.district_code,
        results.exam_starts_on,
        results.exam_starts_at,
        results.exam_ends_at,
        exam_day::date as exam_day
    from results
    cross join lateral generate_series(
        {{ local_date('least(results.exam_starts_at, results.exam_ends_at)') }},
        least({{ local_date('greatest(results.exam_starts_at, results.exam_ends_at)') }},
              {{ local_date('least(results.exam_starts_at, results.exam_ends_at)') }} + 366),
        interval '1 day') as exam_day

),

training_during_exam as (

    select distinct on (exam_days.result_id)
        exam_days.result_id,
        exam_days.district_code,
        exam_days.exam_starts_on,
        exam_days.exam_starts_at,
        exam_days.exam_ends_at,
        checked_in_sessions.trainee_id,
        checked_in_sessions.session_id,
        checked_in_sessions.starts_at as session_starts_at,
        checked_in_sessions.ends_at as session_ends_at
    from exam_days
    join trainees on trainees.person_key = exam_days.person_key
    join checked_in_sessions
        on checked_in_sessions.trainee_id = trainees.trainee_id
        and checked_in_sessions.window_day = exam_days.exam_day
    where exam_days.exam_starts_at < checked_in_sessions.ends_at
      and checked_in_sessions.starts_at < exam_days.exam_ends_at
    order by exam_days.result_id, checked_in_sessions.starts_at, checked_in_sessions.session_id,
             checked_in_sessions.trainee_id

)

select
    'EXAM_DURING_TRAINING'::text as rule_code,
    'result'::text as entity_type,
    result_id as entity_key,
    district_code,
    exam_starts_on as occurred_on,
    jsonb_build_object(
        'exam_starts_at', exam_starts_at,
        'exam_ends_at', exam_ends_at,
        'trainee_id', trainee_id,
        'session_id', session_id,
        'session_starts_at', session_starts_at,
        'session_ends_at', session_ends_at
    ) as evidence
from training_during_exam
where district_code is not null
