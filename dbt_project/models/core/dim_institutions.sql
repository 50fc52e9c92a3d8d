-- Current version of each training institution (what every rule reads: "latest version"), with
-- what the pulled history says about it: how many versions were seen and whether the licence
-- period or district was ever changed (a licence back-dated after an alert is worth a look).
with

institutions as (

    select * from {{ ref('stg_training__institutions') }}

),

history as (

    select * from {{ ref('stg_training__institutions_history') }}

),

history_summary as (

    select
        institution_id,
        count(*) as versions_seen,
        min(updated_at) as first_version_at,
        count(distinct (license_valid_from, license_valid_to)) > 1 as licence_period_changed,
        count(distinct district_code) > 1 as district_changed
    from history
    group by institution_id

)

select
    institutions.institution_id,
    institutions.credit_code,
    institutions.institution_name,
    institutions.kind,
    institutions.district_code,
    institutions.license_valid_from,
    institutions.license_valid_to,
    coalesce(history_summary.versions_seen, 1) as versions_seen,
    coalesce(history_summary.licence_period_changed, false) as licence_period_changed,
    coalesce(history_summary.district_changed, false) as district_changed,
    history_summary.first_version_at,
    institutions.updated_at
from institutions
left join history_summary on history_summary.institution_id = institutions.institution_id
