-- INVALID_ID_NUMBER population (trainees): every trainee, with the GB 11643-1999 checks the
-- loader computed from the plain ID number (id_format_ok, id_birth_date, id_check_ok).
-- District: the institution of the trainee's earliest enrollment (by enrolled_at, then
-- enrollment_id), else 310000 (the city). occurred_on: that enrollment's local enrolled_at date,
-- else the local date of the trainee row's updated_at (a source time, so a re-run gives the same).
select
    'INVALID_ID_NUMBER'::text                               as rule_code,
    'trainee'::text                                         as entity_type,
    t.trainee_id                                            as entity_key,
    coalesce(ee.district_code, '310000')                    as district_code,
    coalesce((ee.enrolled_at at time zone {{ var('local_timezone') }})::date,
             (t.updated_at at time zone {{ var('local_timezone') }})::date) as occurred_on,
    t.id_format_ok,
    t.id_birth_date,
    t.id_check_ok,
    (now() at time zone {{ var('local_timezone') }})::date              as today,
    jsonb_build_object(
        'id_masked', t.id_masked, 'format_ok', t.id_format_ok,
        'birth_date', t.id_birth_date, 'check_ok', t.id_check_ok) as evidence
from raw_training.trainees as t
left join lateral (   -- per trainee (an index lookup), so that a few re-checked trainees cost little
    select e.enrolled_at, inst.district_code
    from raw_training.enrollments as e
    left join raw_training.classes as c on c.class_id = e.class_id
    left join raw_training.institutions as inst on inst.institution_id = c.institution_id
    where e.trainee_id = t.trainee_id
    order by e.enrolled_at, e.enrollment_id
    limit 1
) as ee on true
