-- SCORE_FLAG_MISMATCH population: every assessment result (the rule needs no other row; the
-- exam only decides the district). District: the exam's evaluation org, else 310000.
-- occurred_on: local date of recorded_at, else of the exam's start, else the delivery date.
-- Scores are numeric (85 = 85.0); a missing score is null and compares as neither >= nor <.
select
    'SCORE_FLAG_MISMATCH'::text                             as rule_code,
    'result'::text                                          as entity_type,
    r.result_id                                             as entity_key,
    coalesce(org.district_code, '310000')                   as district_code,
    coalesce((r.recorded_at at time zone {{ var('local_timezone') }})::date,
             (x.starts_at at time zone {{ var('local_timezone') }})::date,
             r.delivery_date)                               as occurred_on,
    r.theory_score,
    r.practical_score,
    r.passed,
    case when r.theory_score is not null and r.practical_score is not null
         then least(r.theory_score, r.practical_score) end as lower_score,
    jsonb_build_object(
        'theory_score', r.theory_score, 'practical_score', r.practical_score,
        'passed', r.passed)                                 as evidence
from raw_assessment.exam_results as r
left join raw_assessment.exam_sessions as x on x.exam_id = r.exam_id
left join raw_assessment.evaluation_orgs as org on org.org_id = x.org_id
