-- ASSESSOR_DOUBLE_BOOKED (RULES.md): one assessor is listed on two exam sessions whose windows
-- overlap (a.start < b.end and b.start < a.end). entity_key assessor_id|exam_a|exam_b with
-- exam_a < exam_b; district: exam_a's evaluation org. occurred_on: local date the overlap begins
-- (the later of the two starts).
with

exams as (

    select * from {{ ref('dim_exam_sessions') }}
    where starts_at is not null
      and ends_at is not null

),

assessors_on_exams as (

    select distinct
        trim(assessor_id) as assessor_id,
        exams.exam_id,
        exams.district_code,
        exams.starts_at,
        exams.ends_at
    from exams
    cross join lateral unnest(string_to_array(exams.assessor_ids, ';')) as assessor_id
    where trim(assessor_id) <> ''

),

double_bookings as (

    select
        exam_a.assessor_id,
        exam_a.exam_id as exam_a,
        exam_b.exam_id as exam_b,
        exam_a.district_code,
        exam_a.starts_at as a_starts_at,
        exam_a.ends_at as a_ends_at,
        exam_b.starts_at as b_starts_at,
        exam_b.ends_at as b_ends_at
    from assessors_on_exams as exam_a
    join assessors_on_exams as exam_b
        on exam_b.assessor_id = exam_a.assessor_id
        and exam_a.exam_id < exam_b.exam_id
    where exam_a.starts_at < exam_b.ends_at
      and exam_b.starts_at < exam_a.ends_at

)

select
    'ASSESSOR_DOUBLE_BOOKED'::text as rule_code,
    'assessor_exams'::text as entity_type,
    assessor_id || '|' || exam_a || '|' || exam_b as entity_key,
    district_code,
    {{ local_date('greatest(a_starts_at, b_starts_at)') }} as occurred_on,
    jsonb_build_object(
        'exam_a', jsonb_build_object('exam_id', exam_a, 'starts_at', a_starts_at, 'ends_at', a_ends_at),
        'exam_b', jsonb_build_object('exam_id', exam_b, 'starts_at', b_starts_at, 'ends_at', b_ends_at)
    ) as evidence
from double_bookings
where district_code is not null
