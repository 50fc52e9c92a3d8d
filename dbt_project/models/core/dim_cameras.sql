select
    camera_id,
    site_id,
    installed_on
from {{ ref('stg_training__cameras') }}
