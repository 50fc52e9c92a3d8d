-- AGE_OUT_OF_RANGE population: every enrollment whose trainee and class are known.
-- Age in whole years on the class's start_date (PostgreSQL age(): a birthday counts on the day).
-- District: the class's institution. occurred_on: the class's start_date.
select
    'AGE_OUT_OF_RANGE'::text                                as rule_code,
    'enrollment'::text                                      as entity_type,
    e.enrollment_id                                         as entity_key,
    coalesce(inst.district_code, '310000')                  as district_code,
    c.start_date                                            as occurred_on,
    extract(year from age(c.start_date, t.birth_date))::integer as age_years,
    jsonb_build_object(
        'age', extract(year from age(c.start_date, t.birth_date))::integer,
        'class_start_date', c.start_date)                   as evidence
from raw_training.enrollments as e
join raw_training.trainees as t on t.trainee_id = e.trainee_id
join raw_training.classes as c on c.class_id = e.class_id
left join raw_training.institutions as inst on inst.institution_id = c.institution_id
