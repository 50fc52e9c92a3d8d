{#-
  What a daily run's data tests read: the rows that run wrote, not the whole history.

  Data tests on the models that grow with history (attendance, the per-session and per-trainee
  facts) carry a `where` config with one of the placeholders below. dbt builds every filtered test
  from get_where_subquery(); this override replaces the placeholder with a bound that an index
  answers, so a test costs the rows of one run, not of 300 days:

    __latest_build__   the rows the latest build of the model wrote: `_built_at >= <the newest
                       _built_at of the model>` (each incremental fact
                       stamps its inserted / merged rows with the build's run_started_at; a full
                       refresh stamps every row, so its test reads the whole table)
    __latest_loads__   the rows of the raw table's pulls that no passing test has read yet, and at
                       least the latest `data_tests_loads_pulls` pulls: `_loaded_at >= <the older
                       of the first pull after ops.data_tests_loads_tested's mark and the N-th
                       newest pull>`. The training loader writes a table's pull in one transaction,
                       so every row of a pull has the same _loaded_at (the transaction's start);
                       each bound is one probe of the _loaded_at index (the N newest: N probes).
                       The mark is the newest _loaded_at when every such test of the table ran and
                       passed in one dbt invocation (record_tested_loads, the project's on-run-end
                       hook); a table never marked is read whole. A window of wall-clock time (rows
                       loaded in the last day) held every day of a catch-up run in one night: on
                       days run within hours of a quarter's go-live it read all 8.76 M attendance
                       rows, 9.5-16.9 s a day (docs/decisions/0058-what-a-day-re-reads-of-the-history.md);
                       the latest pull alone missed the pull of a day whose marts stopped before
                       its tests (0059).

  What a scoped test does not see, the database enforces or an earlier run's test saw:
    - keys: a per-session fact (key session_id, or session_id and one more column) rewrites all
      of a session's rows in one build (delete + insert), so a key repeated across builds cannot
      arise; fct_attendance and int_session_class_assignments merge on their key under a unique
      index, and the raw_training tables under the staging views whose keys are tested this way
      (attendance, sessions, trainees, enrollments, subsidy_claims) have their primary keys;
    - rows that this run did not write were tested by the run that wrote them, and the rows of
      pulls no passing run tested (a failed gate, a failed test) are in the scope until one does.
  (No unique indexes on the per-session facts: with them the planner estimates 1 row for
  FACE_NOT_SEEN's join and chooses nested loops, which made a 270-day catch-up many times slower;
  docs/decisions/0019-data-tests-scoped-to-the-latest-build.md.)
  `--vars '{data_tests_scope: all}'` drops the bounds (the whole-history sweep: after a backfill,
  a change of a test, or weekly). Tests without a placeholder are untouched.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if not where -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set scoped = '__latest_build__' in where or '__latest_loads__' in where -%}
    {%- if scoped and var('data_tests_scope', 'changed') == 'all' -%}
        {%- set where = where | replace('__latest_build__', 'true') | replace('__latest_loads__', 'true') -%}
    {%- elif scoped -%}
        {#- the bounds are read first and written into the test as literals: a bound the planner
            sees only as a subquery's result gets a generic estimate (a third of the table) and a
            sequential scan; a literal beyond the column's statistics gets the index -#}
        {%- set latest_build = '_built_at >= ' ~ _scope_bound(
                relation, 'select max(_built_at) from {source}', '__latest_build__' in where) -%}
        {%- set latest_loads = '_loaded_at >= ' ~ _scope_bound(
                relation, _latest_pulls_sql(var('data_tests_loads_pulls') | int), '__latest_loads__' in where) -%}
        {%- set where = where | replace('__latest_build__', latest_build) | replace('__latest_loads__', latest_loads) -%}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- endset -%}
    {%- do return(filtered) -%}
{%- endmacro %}

{#- The build stamp of an incremental fact's rows (see get_where_subquery). -#}
{% macro built_at_sql() -%}
    '{{ run_started_at.isoformat() }}'::timestamptz
{%- endmacro %}

{#- A bound of the scope: `query` over `relation` ({source} in it), as a literal (timestamptz_literal,
    macros/incremental_window.sql); not read when the test does not use it. Over a staging view
    it is read from the view's raw table (loads_relation, macros/incremental_rules.sql): through
    the view, max(_loaded_at) scanned the whole table, the bulk of the attendance key tests' time
    (0.09 -> 0.57 s between 30 and 300 days at 0.2 of the city). -#}
{% macro _scope_bound(relation, query, used) -%}
    {%- if not used -%}
        {{- "'infinity'::timestamptz" -}}
    {%- else -%}
        {%- set source = loads_relation(relation) -%}
        {{- timestamptz_literal(query | replace('{source}', source | string)
                                      | replace('{source_name}', _schema_and_name(source)), relation) -}}
    {%- endif -%}
{%- endmacro %}

{#- schema.name of a Relation or of its rendered name (the key of ops.data_tests_loads_tested, and
    how loads_relation finds a view's node). -#}
{% macro _schema_and_name(relation) -%}
    {{- ((relation | string) | replace('"', '')).split('.')[-2:] | join('.') -}}
{%- endmacro %}

{#- The bound of __latest_loads__ over {source}: the older of the first pull after the table's mark
    in ops.data_tests_loads_tested (no mark: the oldest pull) and the `pulls`-th newest pull (a loose
    scan of the _loaded_at index, one probe a pull; fewer pulls: the oldest). An empty table:
    -infinity. -#}
{% macro _latest_pulls_sql(pulls) -%}
    with recursive pulls (loaded_at, n) as (
        select max(_loaded_at), 1 from {source}
        union all
        select (select max(earlier._loaded_at) from {source} as earlier where earlier._loaded_at < pulls.loaded_at),
               pulls.n + 1
        from pulls where pulls.n < {{ pulls }} and pulls.loaded_at is not null)
    select least((select min(loaded_at) from pulls),
                 (select min(_loaded_at) from {source} where _loaded_at > {{ _loads_mark_sql() }}))
{%- endmacro %}

{#- The mark of {source_name} as SQL; -infinity (never marked) when the table of marks is missing:
    a warehouse the pipeline has not bootstrapped since this code came, run by `supervision dbt`. -#}
{% macro _loads_mark_sql() -%}
    {%- if execute and _loads_marks_relation() is none -%}
        '-infinity'::timestamptz
    {%- else -%}
        coalesce((select tested_through from ops.data_tests_loads_tested where raw_table = '{source_name}'),
                 '-infinity')
    {%- endif -%}
{%- endmacro %}

{#- ops.data_tests_loads_tested (supervision's bootstrap makes it), or none where it is missing. -#}
{% macro _loads_marks_relation() -%}
    {{- return(adapter.get_relation(database=target.database, schema='ops', identifier='data_tests_loads_tested')) -}}
{%- endmacro %}

{#- The project's on-run-end hook: for each raw table under `__latest_loads__` tests, when every one of
    those tests ran in this invocation and passed (or warned), its mark in
    ops.data_tests_loads_tested moves to the table's newest _loaded_at up to the invocation's start
    (a pull that began after it is left for the next run). The loads of a day wait for the previous
    day's marts and the marts for the day's loads (supervision.run_waits), so in the pipeline no pull
    is in flight during the tests; a manual `supervision dbt` run beside a pull that began before it
    and committed after its tests could mark that pull unread. Nothing when the table of marks is
    missing (a warehouse not bootstrapped). -#}
{% macro record_tested_loads(results) -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set marks = _loads_marks_relation() -%}
    {%- if marks is none -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set status = {} -%}
    {%- for result in results if result.node.resource_type == 'test' -%}
        {%- do status.update({result.node.unique_id: result.status | string}) -%}
    {%- endfor -%}
    {%- set tables = {} -%}
    {%- for node in graph.nodes.values()
          if node.resource_type == 'test' and '__latest_loads__' in (node.config.where or '') -%}
        {%- set model_node = graph.nodes.get(node.attached_node) -%}
        {%- if model_node is not none -%}
            {%- set raw = loads_relation(api.Relation.create(database=model_node.database, schema=model_node.schema,
                                                             identifier=model_node.alias or model_node.name)) -%}
            {%- set passed = status.get(node.unique_id, '').split('.')[-1].lower() in ('pass', 'warn') -%}
            {%- do tables.update({raw | string: [raw, tables.get(raw | string, [raw, true])[1] and passed]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set passed_tables = tables.values() | selectattr(1) | list -%}
    {%- for raw, passed in passed_tables %}
    insert into {{ marks }} as m (raw_table, tested_through)
    select '{{ _schema_and_name(raw) }}', max(_loaded_at) from {{ raw }}
    where _loaded_at <= '{{ run_started_at.isoformat() }}'::timestamptz having max(_loaded_at) is not null
    on conflict (raw_table) do update set tested_through = greatest(m.tested_through, excluded.tested_through),
        recorded_at = now();
    {%- endfor %}
    {#- dbt issues no commit of its own after on-run-end hooks (dbt-core issue 2495): the inserts end
        with one, so they stick whatever transaction the hook's connection is in -#}
    {%- if passed_tables %}
    commit;
    {%- endif %}
{%- endmacro %}
