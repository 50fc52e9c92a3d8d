with

sites as (

    select * from {{ ref('stg_training__sites') }}

),

cameras as (

    select site_id, count(*) as cameras from {{ ref('stg_training__cameras') }} group by site_id

)

select
    sites.site_id,
    sites.institution_id,
    sites.district_code,
    sites.address,
    sites.is_registered,
    coalesce(cameras.cameras, 0) as cameras
from sites
left join cameras on cameras.site_id = sites.site_id
