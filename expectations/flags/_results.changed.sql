-- Results to re-check: the result or its exam was loaded at or after {{ since }}; findings whose
-- district a reloaded evaluation org changes.
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
where f.rule_code = 'SCORE_FLAG_MISMATCH' and f.entity_type = 'result' and org._loaded_at >= {{ since }}
  and f.district_code is distinct from org.district_code
