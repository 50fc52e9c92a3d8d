-- Results to re-check for INVALID_ID_NUMBER: those of _results.changed.sql, and every result
-- whose ID number's birth date is after {{ since_date }} (the rule compares with today: time
-- alone can clear such a finding, never make a new one).
select r.result_id from raw_assessment.exam_results as r where r._loaded_at >= {{ since }}
union
select r.result_id from raw_assessment.exam_sessions as x
join raw_assessment.exam_results as r on r.exam_id = x.exam_id
where x._loaded_at >= {{ since }}
union
-- an evaluation org decides nothing but a finding's district, and the export re-delivers every
-- org every day: re-check the findings whose district a reloaded org changes, not every result
select f.entity_key from ops.gx_rule_findings as f
join raw_assessment.exam_results as r on r.result_id = f.entity_key
join raw_assessment.exam_sessions as x on x.exam_id = r.exam_id
join raw_assessment.evaluation_orgs as org on org.org_id = x.org_id
where f.rule_code = 'INVALID_ID_NUMBER' and f.entity_type = 'result' and org._loaded_at >= {{ since }}
  and f.district_code is distinct from org.district_code
union
select r.result_id from raw_assessment.exam_results as r where r.id_birth_date > {{ since_date }}
