-- Attendance rows to re-check: the row, its session, the session's class, site or the class's
-- institution was loaded at or after {{ since }} (every input of the attendance populations).
select a.attendance_id from raw_training.attendance as a where a._loaded_at >= {{ since }}
union
select a.attendance_id from raw_training.sessions as s
join raw_training.attendance as a on a.session_id = s.session_id
where s._loaded_at >= {{ since }}
union
select a.attendance_id from raw_training.classes as c
join raw_training.sessions as s on s.class_id = c.class_id
join raw_training.attendance as a on a.session_id = s.session_id
where c._loaded_at >= {{ since }}
union
select a.attendance_id from raw_training.sites as site
join raw_training.sessions as s on s.site_id = site.site_id
join raw_training.attendance as a on a.session_id = s.session_id
where site._loaded_at >= {{ since }}
union
select a.attendance_id from raw_training.institutions as inst
join raw_training.classes as c on c.institution_id = inst.institution_id
join raw_training.sessions as s on s.class_id = c.class_id
join raw_training.attendance as a on a.session_id = s.session_id
where inst._loaded_at >= {{ since }}
