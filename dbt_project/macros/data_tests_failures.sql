{#-
  dbt's test materialization, and then, when a test fails (severity error), its failing rows in the
  log: dbt's own message says only "Got 2 results". A row of column_checks is one finding: the check
  (not_null, unique, accepted_values), the column(s), the repeated key or the value not accepted,
  and its number of rows; of a relationships test, the value without its parent. The
  rows are read again only after a failure (at most 20), so a passing or warning test costs what it
  costs under dbt's materialization.
-#}
{%- materialization test, default -%}
    {%- set relations = dbt.materialization_test_default() -%}
    {#- the row of dbt's get_test_sql: failures, should_warn, should_error -#}
    {%- set outcome = load_result('main').table.rows[0] -%}
    {%- if outcome['should_error'] and config.get('severity') | upper == 'ERROR' -%}
        {%- set failing = run_query('select * from (' ~ sql ~ ') failing_rows limit 20') -%}
        {%- set lines = [] -%}
        {%- for row in failing.rows -%}
            {%- set cells = [] -%}
            {%- for name in failing.column_names -%}
                {%- do cells.append(name ~ '=' ~ row[name]) -%}
            {%- endfor -%}
            {%- do lines.append('  ' ~ cells | join(', ')) -%}
        {%- endfor -%}
        {%- set where = config.get('where') or '' -%}
        {%- set scope = ' (the rows of the latest build)' if '__latest_build__' in where
                   else ' (the rows of the latest loads)' if '__latest_loads__' in where
                   else ' (where ' ~ where ~ ')' if where else '' -%}
        {%- do log('Failing rows of ' ~ model.name ~ scope ~ ':\n' ~ lines | join('\n'), info=True) -%}
    {%- endif -%}
    {{- return(relations) -}}
{%- endmaterialization -%}
