{#-
  Late data and corrections, for the incremental per-session facts.

  A day's run recomputes (delete + insert on the model's unique key) the sessions that
    (a) start on a local date within `late_arrival_days` before the run date (video files land
        up to 3 days late: everything a late file can change is in this window), or
    (b) are new or whose source rows changed since the model was last built (a session
        corrected, cancelled or moved weeks later; a late attendance correction), detected
        through the loaders' `_loaded_at` stamps against the high-water mark kept in the
        model itself (`_source_loaded_at`).
  The work per run is therefore bounded by one lookback window plus what changed, not by the
  length of the history.
-#}

{#- The local day being run: var run_date, else the newest local date the video loader has seen
    (an index lookup), else today. -#}
{% macro run_date_sql() -%}
    {%- if var('run_date', none) -%}
        date '{{ var("run_date") }}'
    {%- else -%}
        coalesce((select max(local_date) from {{ ref('stg_video__events') }}), {{ local_date('now()') }})
    {%- endif -%}
{%- endmacro %}

{#- First local date of the lookback window. -#}
{% macro lookback_start_sql() -%}
    ({{ run_date_sql() }} - {{ var('late_arrival_days') | int }})
{%- endmacro %}

{#- High-water mark of the source stamps this model was built from. -#}
{% macro built_until_sql(column='_source_loaded_at') -%}
    (select coalesce(max({{ column }}), '-infinity'::timestamptz) from {{ this }})
{%- endmacro %}
