-- The 16 districts of Shanghai and the city (310000), with their Chinese (Simplified) and English
-- names, for BI tools to label district codes. is_city marks the city's row: in
-- district_target_progress the 310000 rows are the sum of the district rows (is_city_total there),
-- while in the alert table and rule_precision 310000 holds the alerts the city handles itself.
with

districts as (

    select * from {{ ref('districts') }}

)

select
    district_code,
    district_name,
    district_name_en,
    false as is_city
from districts

union all

select
    '310000' as district_code,
    '上海市' as district_name,
    'Shanghai (city)' as district_name_en,
    true as is_city
