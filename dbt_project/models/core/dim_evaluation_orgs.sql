select
    org_id,
    org_name,
    kind,
    kind_code,
    district_code,
    array_to_string(occupation_codes, ';') as occupation_codes,
    registered_on,
    valid_to
from {{ ref('stg_assessment__evaluation_orgs') }}
