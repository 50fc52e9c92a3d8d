-- Sessions to re-check: the session, its class, site or the class's institution was loaded at
-- or after {{ since }}.
select s.session_id from raw_training.sessions as s where s._loaded_at >= {{ since }}
union
select s.session_id from raw_training.classes as c
join raw_training.sessions as s on s.class_id = c.class_id
where c._loaded_at >= {{ since }}
union
select s.session_id from raw_training.sites as site
join raw_training.sessions as s on s.site_id = site.site_id
where site._loaded_at >= {{ since }}
union
select s.session_id from raw_training.institutions as inst
join raw_training.classes as c on c.institution_id = inst.institution_id
join raw_training.sessions as s on s.class_id = c.class_id
where inst._loaded_at >= {{ since }}
