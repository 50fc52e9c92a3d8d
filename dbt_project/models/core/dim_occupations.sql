with

occupations as (

    select * from {{ ref('stg_training__occupations') }}

)

select
    occupation_code,
    occupation_name,
    category,
    is_urgent
from occupations
