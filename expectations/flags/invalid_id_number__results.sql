-- INVALID_ID_NUMBER population (assessment results): every result, with the GB 11643-1999
-- checks the loader computed from the candidate's plain ID number.
-- District: the exam's evaluation org, else 310000. occurred_on: local date of recorded_at,
-- else of the exam's start, else the delivery date of the file the result came in.
select
    'INVALID_ID_NUMBER'::text                               as rule_code,
    'result'::text                                          as entity_type,
    r.result_id                                             as entity_key,
    coalesce(org.district_code, '310000')                   as district_code,
    coalesce((r.recorded_at at time zone {{ var('local_timezone') }})::date,
             (x.starts_at at time zone {{ var('local_timezone') }})::date,
             r.delivery_date)                               as occurred_on,
    r.id_format_ok,
    r.id_birth_date,
    r.id_check_ok,
    (now() at time zone {{ var('local_timezone') }})::date              as today,
    jsonb_build_object(
        'id_masked', r.id_masked, 'format_ok', r.id_format_ok,
        'birth_date', r.id_birth_date, 'check_ok', r.id_check_ok) as evidence
from raw_assessment.exam_results as r
left join raw_assessment.exam_sessions as x on x.exam_id = r.exam_id
left join raw_assessment.evaluation_orgs as org on org.org_id = x.org_id
