-- Results to re-check: the result, its exam or the exam's evaluation org was loaded at or after
-- {{ since }}.
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
