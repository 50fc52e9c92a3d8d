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
    __latest_loads__   the rows the latest `data_tests_loads_pulls` pulls of the raw table wrote:
                       `_loaded_at >= <the N-th newest _loaded_at of the raw table>`. The training
                       loader writes a table's pull in one transaction, so every row of a pull has
                       the same _loaded_at (the transaction's start); the N newest values are found
                       by N probes of the _loaded_at index. A window of wall-clock time (rows
                       loaded in the last day) held every day of a catch-up run in one night: on
                       days run within hours of a quarter's go-live it read all 8.76 M attendance
                       rows, 9.5-16.9 s a day (docs/decisions/0058-what-a-day-re-reads-of-the-history.md).

  What a scoped test does not see, the database enforces or an earlier run's test saw:
    - keys: a per-session fact (key session_id, or session_id and one more column) rewrites all
      of a session's rows in one build (delete + insert), so a key repeated across builds cannot
      arise; fct_attendance and int_session_class_assignments merge on their key under a unique
      index, and the raw_training tables under the staging views whose keys are tested this way
      (attendance, sessions, trainees, enrollments, subsidy_claims) have their primary keys;
    - rows that this run did not write were tested by the run that wrote them; the rows of a pull
      whose marts run stopped before its tests (a failed gate) are outside the next run's scope
      when that run pulls again: the sweep below reads them.
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
        {{- timestamptz_literal(query | replace('{source}', loads_relation(relation) | string), relation) -}}
    {%- endif -%}
{%- endmacro %}

{#- The bound of __latest_loads__: the _loaded_at of the `pulls`-th newest pull of {source}, a
    loose scan of its _loaded_at index (one probe a pull). Fewer pulls: the oldest; an empty table:
    -infinity. -#}
{% macro _latest_pulls_sql(pulls) -%}
    with recursive pulls (loaded_at, n) as (
        select max(_loaded_at), 1 from {source}
        union all
        select (select max(earlier._loaded_at) from {source} as earlier where earlier._loaded_at < pulls.loaded_at),
               pulls.n + 1
        from pulls where pulls.n < {{ pulls }} and pulls.loaded_at is not null)
    select min(loaded_at) from pulls
{%- endmacro %}
