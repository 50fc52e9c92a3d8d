-- Results to re-check for INVALID_ID_NUMBER: those of _results.changed.sql, and every result
-- whose ID number's birth date is after {{ since_date }} (the rule compares with today: time
-- alone can clear such a finding, never make a new one).
select r.result_id from raw_assessment.exam_results as r where r._loaded_at >= {{ since }}
union
select r.result_id from raw_assessment.exam_sessions as x
join raw_assessment.exam_results as r on r.exam_id = x.exam_id
where x._loaded_at >= {{ since }}
union
select r.result_id from raw_assessment.evaluation_orgs as org
join raw_assessment.exam_sessions as x on x.org_id = org.org_id
join raw_assessment.exam_results as r on r.exam_id = x.exam_id
where org._loaded_at >= {{ since }}
union
select r.result_id from raw_assessment.exam_results as r where r.id_birth_date > {{ since_date }}
