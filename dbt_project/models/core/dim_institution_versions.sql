-- Every version of every institution as pulled (type-2 history): valid from the version's
-- updated_at until the next version's. Lets supervision see which licence period was on record
-- at any past moment.
with

history as (

    select * from {{ ref('stg_training__institutions_history') }}

),

versions as (

    select
        institution_id,
        updated_at as valid_from,
        lead(updated_at) over (partition by institution_id order by updated_at) as valid_to,
        institution_name,
        kind,
        district_code,
        license_valid_from,
        license_valid_to
    from history

)

select
    institution_id || '|' || to_char(valid_from at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as institution_version_key,
    institution_id,
    institution_name,
    kind,
    district_code,
    license_valid_from,
    license_valid_to,
    valid_from,
    valid_to,
    valid_to is null as is_current
from versions
