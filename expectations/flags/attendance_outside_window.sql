-- ATTENDANCE_OUTSIDE_WINDOW population: every attendance row of a known session (the class may
-- be unknown: it only decides the district when the site is unknown).
-- minutes_* are exact (seconds / 60), for the breakdown expectations and the evidence.
select
    'ATTENDANCE_OUTSIDE_WINDOW'::text                       as rule_code,
    'attendance'::text                                      as entity_type,
    a.attendance_id::text                                   as entity_key,
    a.attendance_id,                                        -- the key, typed (incremental runs)
    coalesce(site.district_code, inst.district_code, '310000') as district_code,
    (a.captured_at at time zone {{ var('local_timezone') }})::date      as occurred_on,
    a.event,
    a.captured_at,
    s.starts_at,
    s.ends_at,
    s.status                                                as session_status,
    extract(epoch from (s.starts_at - a.captured_at)) / 60  as minutes_before_start,
    extract(epoch from (a.captured_at - s.ends_at)) / 60    as minutes_after_end,
    jsonb_build_object(
        'event', a.event,
        'captured_at', to_char(a.captured_at at time zone {{ var('local_timezone') }}, 'YYYY-MM-DD"T"HH24:MI:SS'),
        'starts_at', to_char(s.starts_at at time zone {{ var('local_timezone') }}, 'YYYY-MM-DD"T"HH24:MI:SS'),
        'ends_at', to_char(s.ends_at at time zone {{ var('local_timezone') }}, 'YYYY-MM-DD"T"HH24:MI:SS'),
        'session_status', s.status)                         as evidence
from raw_training.attendance as a
join raw_training.sessions as s on s.session_id = a.session_id
left join raw_training.classes as c on c.class_id = s.class_id
left join raw_training.sites as site on site.site_id = s.site_id
left join raw_training.institutions as inst on inst.institution_id = c.institution_id
