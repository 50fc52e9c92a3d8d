-- Enrollments to re-check: the enrollment, its trainee, its class or the class's institution was
-- loaded at or after {{ since }}.
select e.enrollment_id from raw_training.enrollments as e where e._loaded_at >= {{ since }}
union
select e.enrollment_id from raw_training.trainees as t
join raw_training.enrollments as e on e.trainee_id = t.trainee_id
where t._loaded_at >= {{ since }}
union
select e.enrollment_id from raw_training.classes as c
join raw_training.enrollments as e on e.class_id = c.class_id
where c._loaded_at >= {{ since }}
union
select e.enrollment_id from raw_training.institutions as inst
join raw_training.classes as c on c.institution_id = inst.institution_id
join raw_training.enrollments as e on e.class_id = c.class_id
where inst._loaded_at >= {{ since }}
