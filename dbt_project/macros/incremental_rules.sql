{#-
  Incremental rules (and the per-session intermediates they read).

  A rule table holds the complete current set of its findings (the alert upkeep needs every one:
  an alert whose key is absent becomes inactive). A day's run recomputes only the entities whose
  inputs may have changed since the model was last built: a pre-hook stores their keys in a
  temporary table and deletes their findings, the model inserts what they yield now (strategy
  append), and a post-hook records how far each source was read. An entity whose inputs did not
  change keeps its findings, which are exactly what a full rebuild would give it.

  Changes are found through the loaders' `_loaded_at` stamps (raw rows are only ever rewritten,
  never deleted) and, for late video files, the lookback window of incremental_window.sql. The
  high-water mark of every source a model read lives in rules.incremental_marks, one row per
  (model, source): a rule table can be empty, so it cannot keep its mark in its own rows. The
  marks are taken before the changed set is read, so a row loaded meanwhile is read again next
  time, never skipped. Thresholds (vars) are read in the rule bodies: after changing one, run the
  rules with --full-refresh.
-#}

{#- The relations whose `_loaded_at` tells what changed, by source name. -#}
{% macro change_source(name) -%}
    {%- set sources = {
        'attendance': 'fct_attendance',
        'sessions': 'stg_training__sessions',
        'session_classes': 'int_session_class_assignments',
        'classes': 'stg_training__classes',
        'sites': 'stg_training__sites',
        'cameras': 'stg_training__cameras',
        'institutions': 'stg_training__institutions',
        'enrollments': 'stg_training__enrollments',
        'subsidy_claims': 'stg_training__subsidy_claims',
        'trainees': 'stg_training__trainees',
        'exam_sessions': 'stg_assessment__exam_sessions',
        'exam_results': 'stg_assessment__results',
        'evaluation_orgs': 'stg_assessment__evaluation_orgs',
        'occupations': 'stg_training__occupations',
        'certificates': 'stg_assessment__certificates',
    } -%}
    {{ ref(sources[name]) }}
{%- endmacro %}

{#- The relation to read a view's newest `_loaded_at` from: for a view that selects from one source
    (the staging views, which rename a raw table's columns and filter nothing), that raw table; else
    `relation` itself. max() over a staging view is a scan of the whole raw table: PostgreSQL does
    not turn it into one probe of the `_loaded_at` index through the view's CTEs (0.17 s over
    attendance after 100 days at 0.2 of the city, against 0.3 ms on the table); a `_loaded_at >`
    filter through the view does use the index. `relation`: a Relation or its rendered name. -#}
{% macro loads_relation(relation) -%}
    {#- a unit test has no graph of nodes, and its inputs are the relation's fixtures: keep the relation -#}
    {%- if execute and not (model is defined and model.resource_type == 'unit_test') -%}
        {%- set name = _schema_and_name(relation) -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.config.materialized == 'view'
                  and (node.schema ~ '.' ~ (node.alias or node.name)) == name
                  and node.depends_on.nodes | length == 1 and node.depends_on.nodes[0].startswith('source.') -%}
                {%- set source_node = graph.sources[node.depends_on.nodes[0]] -%}
                {{- return(api.Relation.create(database=source_node.database, schema=source_node.schema,
                                               identifier=source_node.identifier)) -}}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(relation) -}}
{%- endmacro %}

{#- For the model body: declares the dependencies the hooks read (dbt infers refs from the body).
    Not in a unit test's rendering: the hooks do not run there, and every ref would need a given. -#}
{% macro change_source_refs(names) -%}
    {%- if model.resource_type != 'unit_test' -%}
    -- change sources: {{ ref('incremental_marks') }}, {{ ref('stg_video__events') }}{% for name in names %}, {{ change_source(name) }}{% endfor %}
    {%- endif -%}
{%- endmacro %}

{#- Classes (re)loaded since this model last read them, and the classes of institutions (re)loaded. -#}
{% macro reloaded_class_ids_sql() -%}
    select class_id from {{ change_source('classes') }}
    where {{ changed_since_last_build('classes') }}
    union all
    select classes.class_id
    from {{ change_source('classes') }} as classes
    join {{ change_source('institutions') }} as institutions
        on institutions.institution_id = classes.institution_id
    where {{ changed_since_last_build('institutions', 'institutions') }}
{%- endmacro %}

{#- Rows of a change source (re)loaded since this model last read it. -#}
{% macro changed_since_last_build(name, alias=none) -%}
    {{ alias ~ '.' if alias else '' }}_loaded_at > {{ timestamptz_literal(
        "select coalesce(max(built_until), '-infinity'::timestamptz) from " ~ ref('incremental_marks')
        ~ " where model_name = '" ~ this.name ~ "' and source_name = '" ~ name ~ "'", ref('incremental_marks')) }}
{%- endmacro %}

{#- Pre-hook: take the marks of `sources` now; on an incremental run, stage the keys to recompute
    (`recompute_sql` selects a column recompute_key) and delete the rows whose `key_columns` (SQL
    expressions; any of them) is one of those keys. `indexed`: the key columns are indexed, and the
    delete reads the keys as an array (`= any(array(...))`), which the index answers key by key;
    `in (select ...)` made the planner scan the whole table (130 ms against 4.7 ms on
    int_sessions_checked_in_by_trainee after 300 days at 0.04 of the city). Not for an unindexed
    table: there the array is searched once per row. `unique_index`: the name of the model's unique
    index on its one key column, made here before the delete if missing (a table first built
    without it, e.g. before the model was incremental: the array against every row took 22 s for
    54 k enrollments); the model's post-hook makes it on a first build. -#}
{% macro stage_recompute(sources, recompute_sql, key_columns=['entity_key'], indexed=false, unique_index=none) -%}
    drop table if exists pg_temp.marks__{{ this.name }};
    create temporary table marks__{{ this.name }} as
    {% for name in sources -%}
    select '{{ name }}'::text as source_name, (select max(_loaded_at) from {{ loads_relation(change_source(name)) }}) as built_until
    {% if not loop.last %}union all{% endif %}
    {% endfor -%};
    {%- if is_incremental() %}
    drop table if exists pg_temp.recompute__{{ this.name }};
    create temporary table recompute__{{ this.name }} as
        select distinct recompute_key from ({{ recompute_sql }}) as changed where recompute_key is not null;
    analyze pg_temp.recompute__{{ this.name }};
    {%- if unique_index %}
    create unique index if not exists {{ unique_index }} on {{ this }} ({{ key_columns[0] }});
    {%- endif %}
    delete from {{ this }}
    where {% for key in key_columns -%}
        {%- if indexed %}{{ key }} = any(array(select recompute_key from pg_temp.recompute__{{ this.name }}))
        {%- else %}{{ key }} in {{ recompute_keys() }}{% endif %}{% if not loop.last %} or {% endif %}
    {%- endfor %};
    {%- endif %}
{%- endmacro %}

{#- The staged keys, for delete_where and the model body (only when is_incremental()). -#}
{% macro recompute_keys() -%}
    (select recompute_key from pg_temp.recompute__{{ this.name }})
{%- endmacro %}

{#- Post-hook: the marks taken by stage_recompute become this model's (same transaction as the build). -#}
{% macro record_marks() -%}
    delete from {{ ref('incremental_marks') }} where model_name = '{{ this.name }}';
    insert into {{ ref('incremental_marks') }} (model_name, source_name, built_until)
    select '{{ this.name }}', source_name, built_until from pg_temp.marks__{{ this.name }};
{%- endmacro %}

{#- Change sources of session_inputs_changed_sql. -#}
{% macro session_change_sources() -%}
    {{ return(['attendance', 'sessions', 'cameras', 'sites', 'classes', 'institutions']) }}
{%- endmacro %}

{#- Sessions whose figures may have changed (any per-session fact, fct_sessions' row, attendance):
    started within the lookback window of late video files, or their row, site, cameras, class or
    class's institution (re)loaded since the last build, or an attendance row of theirs (re)loaded
    (also the session a corrected row belonged to before). `lookback=false` for a model that reads
    no video fact: late video files change nothing of it, and the window alone was four days of
    sessions rebuilt every day (int_sessions_checked_in_by_trainee: 180-230 k rows, 3.1-6.8 s a
    day at city scale). -#}
{% macro session_inputs_changed_sql(lookback=true) -%}
    select session_id as recompute_key
    from {{ ref('stg_training__sessions') }}
    where {% if lookback -%}
          (starts_at >= {{ local_midnight(lookback_start_sql()) }}
           and starts_at < {{ local_midnight('(' ~ run_date_sql() ~ ' + 1)') }})
       or {% endif -%}
          {{ changed_since_last_build('sessions') }}
    union all
    select sessions.session_id
    from {{ ref('stg_training__sessions') }} as sessions
    join {{ ref('stg_training__cameras') }} as cameras on cameras.site_id = sessions.site_id
    where {{ changed_since_last_build('cameras', 'cameras') }}
    union all
    select sessions.session_id
    from {{ ref('stg_training__sessions') }} as sessions
    join {{ ref('stg_training__sites') }} as sites on sites.site_id = sessions.site_id
    where {{ changed_since_last_build('sites', 'sites') }}
    union all
    select sessions.session_id
    from {{ ref('stg_training__sessions') }} as sessions
    join {{ ref('stg_training__classes') }} as classes on classes.class_id = sessions.class_id
    where {{ changed_since_last_build('classes', 'classes') }}
    union all
    select sessions.session_id
    from {{ ref('stg_training__sessions') }} as sessions
    join {{ ref('stg_training__classes') }} as classes on classes.class_id = sessions.class_id
    join {{ ref('stg_training__institutions') }} as institutions on institutions.institution_id = classes.institution_id
    where {{ changed_since_last_build('institutions', 'institutions') }}
    union all
    select session_id from {{ ref('fct_attendance') }}
    where {{ changed_since_last_build('attendance') }}
    union all
    select previous_session_id from {{ ref('fct_attendance') }}
    where {{ changed_since_last_build('attendance') }}
{%- endmacro %}

{#- In a model body: `and <column> in (the staged keys)` on an incremental run, nothing otherwise. -#}
{% macro and_recomputed(column) -%}
    {%- if is_incremental() %} and {{ column }} in {{ recompute_keys() }}{% endif -%}
{%- endmacro %}

{#- Part n (1-based) of a '|'-joined entity_key, e.g. the session of session_id|trainee_id. -#}
{% macro entity_key_part(n) -%}
    split_part(entity_key, '|', {{ n }})
{%- endmacro %}

{#- INSUFFICIENT_HOURS: claims whose attended hours may have changed: the claim, its enrollment,
    its class or the class's institution (re)loaded, or a session of the class (re)loaded or its
    attendance changed, for every class the session was ever in (a session moved away from a class
    lowers the hours of that class's claims). -#}
{% macro claim_hours_inputs_changed_sql() -%}
    with

    changed_sessions as (
        select session_id from {{ ref('int_session_class_assignments') }}
        where {{ changed_since_last_build('session_classes') }}
        union all
        select session_id from {{ ref('fct_attendance') }}
        where {{ changed_since_last_build('attendance') }}
        union all
        select previous_session_id from {{ ref('fct_attendance') }}
        where {{ changed_since_last_build('attendance') }}
    ),

    changed_classes as (
        select class_id from {{ ref('int_session_class_assignments') }}
        where session_id in (select session_id from changed_sessions)
        union all
        {{ reloaded_class_ids_sql() }}
    )

    select claim_id as recompute_key from {{ ref('stg_training__subsidy_claims') }}
    where {{ changed_since_last_build('subsidy_claims') }}
    union all
    select claims.claim_id
    from {{ ref('stg_training__subsidy_claims') }} as claims
    join {{ ref('stg_training__enrollments') }} as enrollments on enrollments.enrollment_id = claims.enrollment_id
    where {{ changed_since_last_build('enrollments', 'enrollments') }}
       or enrollments.class_id in (select class_id from changed_classes)
{%- endmacro %}

{#- EXAM_DURING_TRAINING: results whose answer may have changed: the result, its exam or the
    exam's org (re)loaded; results of the persons of trainees (re)loaded or checked in to a
    session whose inputs changed (new state); results whose finding names such a trainee or
    session (old state). -#}
{% macro exam_training_inputs_changed_sql() -%}
    with

    changed_sessions as (
        {{ session_inputs_changed_sql() }}
    ),

    reloaded_trainees as (
        select trainee_id from {{ ref('stg_training__trainees') }}
        where {{ changed_since_last_build('trainees') }}
    ),

    changed_persons as (
        select trainees.person_key
        from {{ ref('stg_training__trainees') }} as trainees
        where trainees.trainee_id in (
            select trainee_id from reloaded_trainees
            union all
            select trainee_id from {{ ref('int_sessions_checked_in_by_trainee') }}
            where session_id in (select recompute_key from changed_sessions))
    )

    select result_id as recompute_key from {{ ref('stg_assessment__results') }}
    where {{ changed_since_last_build('exam_results') }}
       or person_key in (select person_key from changed_persons)
    union all
    select results.result_id
    from {{ ref('stg_assessment__results') }} as results
    join {{ ref('stg_assessment__exam_sessions') }} as exams on exams.exam_id = results.exam_id
    where {{ changed_since_last_build('exam_sessions', 'exams') }}
    union all
    select results.result_id
    from {{ ref('stg_assessment__results') }} as results
    join {{ ref('stg_assessment__exam_sessions') }} as exams on exams.exam_id = results.exam_id
    join {{ ref('stg_assessment__evaluation_orgs') }} as orgs on orgs.org_id = exams.org_id
    where {{ changed_since_last_build('evaluation_orgs', 'orgs') }}
    union all
    select entity_key from {{ this }}
    where evidence ->> 'session_id' in (select recompute_key from changed_sessions)
       or evidence ->> 'trainee_id' in (select trainee_id from reloaded_trainees)
{%- endmacro %}
