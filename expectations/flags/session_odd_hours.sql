-- SESSION_ODD_HOURS population: every held session (any delivery). Hours are exact
-- (seconds / 3600) and local (the settings' time zone); end_hour counts from the start day's local
-- midnight, so an end on a later local date is 24 or more.
select
    'SESSION_ODD_HOURS'::text                               as rule_code,
    'session'::text                                         as entity_type,
    s.session_id                                            as entity_key,
    coalesce(site.district_code, inst.district_code, '310000') as district_code,
    (s.starts_at at time zone {{ var('local_timezone') }})::date        as occurred_on,
    extract(epoch from (s.starts_at at time zone {{ var('local_timezone') }})::time) / 3600 as start_hour,
    extract(epoch from ((s.ends_at at time zone {{ var('local_timezone') }})
                        - date_trunc('day', s.starts_at at time zone {{ var('local_timezone') }}))) / 3600 as end_hour,
    (s.ends_at at time zone {{ var('local_timezone') }})::date
        > (s.starts_at at time zone {{ var('local_timezone') }})::date  as ends_on_later_date,
    extract(epoch from (s.ends_at - s.starts_at)) / 3600    as duration_hours,
    jsonb_build_object(
        'starts_at', to_char(s.starts_at at time zone {{ var('local_timezone') }}, 'YYYY-MM-DD"T"HH24:MI:SS'),
        'ends_at', to_char(s.ends_at at time zone {{ var('local_timezone') }}, 'YYYY-MM-DD"T"HH24:MI:SS'),
        'hours', round(extract(epoch from (s.ends_at - s.starts_at)) / 3600, 2)) as evidence
from raw_training.sessions as s
left join raw_training.classes as c on c.class_id = s.class_id
left join raw_training.sites as site on site.site_id = s.site_id
left join raw_training.institutions as inst on inst.institution_id = c.institution_id
where s.status = 'held'
