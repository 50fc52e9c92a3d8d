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

{#- The local day being run: the environment variable SUPERVISION_DBT_RUN_DATE (the marts DAG sets
    it from the run's data interval; an environment variable, not a var, because a var that changes
    every day makes dbt parse the whole project again), else var run_date (tests, ad-hoc runs), else
    the newest local date the video loader has seen (an index lookup), else today. A unit test
    always takes the newest local date of its given events: its rows do not follow the run's day. -#}
{% macro run_date_sql() -%}
    {%- set in_unit_test = model is defined and model.resource_type == 'unit_test' -%}
    {%- set from_env = env_var('SUPERVISION_DBT_RUN_DATE', '') -%}
    {%- if from_env and not in_unit_test -%}
        date '{{ from_env }}'
    {%- elif var('run_date', none) and not in_unit_test -%}
        date '{{ var("run_date") }}'
    {%- else -%}
        coalesce((select max(local_date) from {{ ref('stg_video__events') }}), {{ local_date('now()') }})
    {%- endif -%}
{%- endmacro %}

{#- First local date of the lookback window. -#}
{% macro lookback_start_sql() -%}
    ({{ run_date_sql() }} - {{ var('late_arrival_days') | int }})
{%- endmacro %}

{#- High-water mark of the source stamps this model was built from. The models index the columns
    of their marks (_source_loaded_at, _video_loaded_at, _run_date): max() is then one index probe.
    Without them each mark was a scan of the model, four a build, growing with its history: 50 ms
    each over the face matches' 0.55 M rows after 120 days at 0.1 of the city, which hold a row per
    session and trainee (about 16 M a year at city scale). -#}
{% macro built_until_sql(column='_source_loaded_at') -%}
    {{ timestamptz_literal("select coalesce(max(" ~ column ~ "), '-infinity'::timestamptz) from " ~ this, this) }}
{%- endmacro %}

{#-
  The value of a one-row, one-column timestamptz query, read when the model runs and written into
  its SQL as a literal. A bound like `_loaded_at > (select max(...) ...)` reaches the planner as an
  unknown parameter: it estimates a third of the table and scans all of it (in bench/bench_dbt.py
  the daily run grew from 12 s to 21 s between 30 and 300 days of history that way); a literal
  beyond the column's statistics gets its index. Where the query cannot run (parsing, a unit test's
  rendering, `relation` not built yet) the subquery is written instead: same rows, only slower.
-#}
{% macro timestamptz_literal(query, relation) -%}
    {%- if execute and model.resource_type != 'unit_test' and load_relation(relation) is not none -%}
        {%- set value = run_query('select (' ~ query ~ ')::text').columns[0].values()[0] -%}
        '{{ value if value is not none else '-infinity' }}'::timestamptz
    {%- else -%}
        ({{ query }})
    {%- endif -%}
{%- endmacro %}

{#-
  Per-session facts are rebuilt session by session: on an incremental run a pre-hook stores the
  set of sessions to recompute in a temporary table (same connection as the model's build),
  deletes those sessions' rows, and the model then inserts their fresh rows (strategy append).
  Deleting first matters: a session that lost all its rows (attendance moved elsewhere, a session
  no longer held) must lose its old rows too, which delete+insert on the new rows alone misses.
  The set is computed once, before the delete, so the high-water mark read from {{ this }} is the
  one of the previous build. `indexed`: the model has an index on session_id, and the delete reads
  the staged sessions as an array (`= any(array(...))`, as stage_recompute does): the index then
  answers it session by session, where `in (select ...)` may scan the whole table.
-#}
{% macro stage_sessions_to_recompute(recompute_sql, indexed=false) -%}
    {%- if is_incremental() -%}
        drop table if exists pg_temp.recompute__{{ this.name }};
        create temporary table recompute__{{ this.name }} as
            select distinct session_id from ({{ recompute_sql }}) as changed where session_id is not null;
        analyze pg_temp.recompute__{{ this.name }};
        delete from {{ this }}
        {% if indexed -%}
        where session_id = any(array(select session_id from pg_temp.recompute__{{ this.name }}));
        {%- else -%}
        where session_id in (select session_id from pg_temp.recompute__{{ this.name }});
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The staged set, for the model body (only called when is_incremental()). -#}
{% macro sessions_to_recompute_relation() -%}
    pg_temp.recompute__{{ this.name }}
{%- endmacro %}

{#- Sessions whose video-derived figures may have changed, in four parts:
    - a session of the lookback window (it ends with the run's day: a session planned for a later
      day has no video yet, and its own day's run will take it) one of whose site's cameras has
      events loaded since the last build on the session's local date (+-1 day: the window's
      slack), the earliest of them before the session's end; the whole window was recomputed
      before, about 8 k sessions and 2.9 M events a day at city scale for the late files of a few
      cameras. No figure of these models reads an event at or after the session's end (the
      window's events are before `ends_at`, the latest status at or before its start), so a
      camera-day whose new events all come later changes none of them: without that bound the new
      day's folder, which holds every camera, made each day recompute the day before's sessions as
      well (on a quarter's warehouse, 3,465 sessions where about half of them changed);
    - with `unbuilt`: a session of the window this model has no row for yet (a session without a
      single event still gets its row: the video coverage's CAMERA_DOWN input);
    - a session on a day after the last build's run day up to this run's day (every day a run
      skipped: the models hold no row of a session after their run's day);
    - the session row, or a camera of its site, (re)loaded since the last build, whatever its
      date: the pre-hook deletes its row. The models build rows only for sessions up to the run's
      day, so a session planned for a later day (a live platform holds weeks of them; the training
      pull of a go-live brings them all at once) costs a delete, not a computation.
    The events' stamp is compared with `_video_loaded_at`, the newest `_loaded_at` of the window's
    events when this model was last built (video_loaded_until_sql). -#}
{% macro video_sessions_to_recompute_sql(unbuilt=false) -%}
    with changed_camera_days as (
        select camera_id, local_date, min(event_at) as first_changed_at
        from {{ ref('stg_video__events') }}
        where local_date between {{ lookback_start_sql() }} - 1 and {{ run_date_sql() }} + 1
          and _loaded_at > {{ video_built_until_sql() }}
        group by camera_id, local_date
    )
    select sessions.session_id
    from {{ ref('stg_training__sessions') }} as sessions
    join {{ ref('stg_training__cameras') }} as cameras on cameras.site_id = sessions.site_id
    join changed_camera_days
        on changed_camera_days.camera_id = cameras.camera_id
        and changed_camera_days.local_date between sessions.starts_on - 1 and sessions.starts_on + 1
        and changed_camera_days.first_changed_at < sessions.ends_at
    where sessions.starts_on between {{ lookback_start_sql() }} and {{ run_date_sql() }}
    {%- if unbuilt %}
    union
    select sessions.session_id
    from {{ ref('stg_training__sessions') }} as sessions
    where sessions.starts_on between {{ lookback_start_sql() }} and {{ run_date_sql() }}
      and not exists (select 1 from {{ this }} as built where built.session_id = sessions.session_id)
    {%- endif %}
    union
    select session_id
    from {{ ref('stg_training__sessions') }}
    where starts_on > {{ last_run_date_sql() }} and starts_on <= {{ run_date_sql() }}
    union
    select session_id
    from {{ ref('stg_training__sessions') }}
    where _loaded_at > {{ built_until_sql() }}
    union
    select sessions.session_id
    from {{ ref('stg_training__sessions') }} as sessions
    join {{ ref('stg_training__cameras') }} as cameras on cameras.site_id = sessions.site_id
    where cameras._loaded_at > {{ built_until_sql() }}
{%- endmacro %}

{#- The newest `_loaded_at` of the lookback window's events (+-1 day), for the model to store in
    `_video_loaded_at`: the next build recomputes the sessions whose cameras have newer ones.
    Read from the view's raw table (loads_relation): there max() is one probe of each partition's
    (_loaded_at) index (8 ms at city scale); through the view PostgreSQL scanned the days (1.7 s). -#}
{% macro video_loaded_until_sql() -%}
    (select max(_loaded_at) from {{ loads_relation(ref('stg_video__events')) }}
     where local_date between {{ lookback_start_sql() }} - 1 and {{ run_date_sql() }} + 1)
{%- endmacro %}

{#- The run day of the last build (`_run_date`, the newest of this model's rows), as a date literal;
    this run's day where it is not known (no such column yet, no row, a unit test). -#}
{% macro last_run_date_sql() -%}
    {%- set relation = load_relation(this) if execute and model.resource_type != 'unit_test' else none -%}
    {%- set value = none -%}
    {%- if relation is not none
          and '_run_date' in (adapter.get_columns_in_relation(relation) | map(attribute='name') | list) -%}
        {%- set value = run_query('select max(_run_date)::text from ' ~ this).columns[0].values()[0] -%}
    {%- endif -%}
    {%- if value -%}
        date '{{ value }}'
    {%- else -%}
        {{ run_date_sql() }}
    {%- endif -%}
{%- endmacro %}

{#- `_video_loaded_at` of the last build, as a literal; -infinity where this model has no such
    column yet (built before it existed: the first build after recomputes the whole window). -#}
{% macro video_built_until_sql() -%}
    {%- set relation = load_relation(this) if execute and model.resource_type != 'unit_test' else none -%}
    {%- if relation is not none
          and '_video_loaded_at' not in (adapter.get_columns_in_relation(relation) | map(attribute='name') | list) -%}
        '-infinity'::timestamptz
    {%- else -%}
        {{ built_until_sql('_video_loaded_at') }}
    {%- endif -%}
{%- endmacro %}

{#- Sessions whose attendance changed since the last build: the session of every attendance row
    (re)loaded since, and the session it belonged to before a correction moved it. -#}
{% macro attendance_sessions_to_recompute_sql() -%}
    select session_id
    from {{ ref('fct_attendance') }}
    where _loaded_at > {{ built_until_sql() }}
    union
    select previous_session_id
    from {{ ref('fct_attendance') }}
    where _loaded_at > {{ built_until_sql() }}
{%- endmacro %}


{#- First month the risk models recompute on an incremental run: the month of (run date -
    late_arrival_days), as a date literal when the run date is known here (the marts DAG's
    SUPERVISION_DBT_RUN_DATE, or var run_date), so that the planner sees the bound (as a subquery it
    assumed a third of every table); else the month of (`fallback` - late_arrival_days), `fallback`
    being the model's own SQL for the newest day it holds (ad-hoc runs and tests without a run
    date). A full build: every month. The model renders `fallback` (its ref() calls), so dbt sees
    them when it parses the model. -#}
{% macro risk_first_month(fallback) -%}
    {%- if not is_incremental() -%}
        date '1900-01-01'
    {%- else -%}
        {%- set given = env_var('SUPERVISION_DBT_RUN_DATE', '') or (var('run_date', none) or '') -%}
        {%- if given -%}
            {%- set day = modules.datetime.date.fromisoformat(given | string) - modules.datetime.timedelta(days=var('late_arrival_days') | int) -%}
            date '{{ day.replace(day=1).isoformat() }}'
        {%- else -%}
            date_trunc('month', {{ fallback }} - {{ var('late_arrival_days') | int }})::date
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
