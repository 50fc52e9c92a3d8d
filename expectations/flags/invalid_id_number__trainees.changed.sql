-- Trainees to re-check: the trainee, one of its enrollments (the earliest decides district and
-- date), an enrolled class or its institution was loaded at or after {{ since }}; and every
-- trainee born (by the ID number) after {{ since_date }} (the rule compares with today:
-- time alone can clear such a finding, never make a new one).
select t.trainee_id from raw_training.trainees as t where t._loaded_at >= {{ since }}
union
select e.trainee_id from raw_training.enrollments as e where e._loaded_at >= {{ since }}
union
select e.trainee_id from raw_training.classes as c
join raw_training.enrollments as e on e.class_id = c.class_id
where c._loaded_at >= {{ since }}
union
select e.trainee_id from raw_training.institutions as inst
join raw_training.classes as c on c.institution_id = inst.institution_id
join raw_training.enrollments as e on e.class_id = c.class_id
where inst._loaded_at >= {{ since }}
union
select t.trainee_id from raw_training.trainees as t where t.id_birth_date > {{ since_date }}
