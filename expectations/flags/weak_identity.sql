-- WEAK_IDENTITY population: every attendance row (either event) for a session of a subsidised
-- class. The session and its class must be known (RULES.md: a rule needing a row the data does
-- not have does not fire). District: the session's site, else the class's institution.
select
    'WEAK_IDENTITY'::text                                   as rule_code,
    'attendance'::text                                      as entity_type,
    a.attendance_id::text                                   as entity_key,
    a.attendance_id,                                        -- the key, typed (incremental runs)
    coalesce(site.district_code, inst.district_code, '310000') as district_code,
    (a.captured_at at time zone {{ var('local_timezone') }})::date      as occurred_on,
    a.event,
    a.method,
    a.face_score,
    jsonb_build_object('event', a.event, 'method', a.method, 'face_score', a.face_score) as evidence
from raw_training.attendance as a
join raw_training.sessions as s on s.session_id = a.session_id
join raw_training.classes as c on c.class_id = s.class_id
left join raw_training.sites as site on site.site_id = s.site_id
left join raw_training.institutions as inst on inst.institution_id = c.institution_id
where c.subsidised
