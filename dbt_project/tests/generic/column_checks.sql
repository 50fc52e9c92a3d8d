{#- Generic test: every check the model's YAML marks, in one query (one dbt node per model instead
    of one per column and check: dbt's own cost of a node, about 45 ms, was most of a small day's
    data tests; docs/decisions/0049-one-not-null-test-per-model.md,
    docs/decisions/0054-one-column-checks-test-per-model.md).

    The checks are marks beside the descriptions (macros/column_checks.sql):

        - name: fct_session_checkins
          config: {meta: {unique_combination: [session_id, trainee_id]}}   # a composite key
          data_tests:
          - column_checks:
              config:
                where: __latest_build__          # the scope its rows need (macros/data_tests_scope.sql)
          columns:
          - name: session_id
            description: Training session id.
            config: {meta: {not_null: true}}     # never null
          - name: rule_code
            config: {meta: {not_null: true, accepted_values: [CAMERA_DOWN]}}
          - name: attendance_id
            config: {meta: {not_null: true, unique: true}}

    Each check is what dbt's test of the same name checks: not_null (no null), unique (no repeated
    non-null value; for a combination, no repeated combination), accepted_values (no non-null value
    outside the list). A failing row is one finding: the check, the column(s), the offending value
    (the repeated key, the value not accepted; none for nulls) and its number of rows in the test's
    scope. When the test fails, the test materialization (macros/data_tests_failures.sql) writes the
    first 20 to the log. Each check reads the scoped rows on its own (a union of independent
    queries), so each keeps the plan its own test had: the not-null part reads only rows with a
    null, which an index on the column can answer. -#}
{% test column_checks(model) %}
{%- set checks = column_checks_marked() -%}
{%- set parts = [] -%}
{%- set not_null = checks['not_null'] -%}
{%- if not_null -%}
    {%- set part -%}
select 'not_null'::text as check_name, column_name::text as column_names, null::text as failing_value,
       null_rows as row_count
from (
    select
            {%- for column in not_null %}
        count(*) filter (where {{ column }} is null) as nulls_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
    from {{ model }}
    where {% for column in not_null %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
) counts
cross join lateral (values
        {%- for column in not_null %}
    ('{{ column }}', nulls_{{ loop.index }}){{ ',' if not loop.last }}
        {%- endfor %}
) as nulls (column_name, null_rows)
where null_rows > 0
    {%- endset -%}
    {%- do parts.append(part) -%}
{%- endif -%}
{%- for key in checks['unique'] -%}
    {%- set part -%}
select 'unique'::text as check_name, '{{ key | join(" | ") }}'::text as column_names,
       {% if key | length == 1 %}{{ key[0] }}::text{% else %}concat_ws(' | ', {% for column in key %}{{ column }}::text{{ ', ' if not loop.last }}{% endfor %}){% endif %} as failing_value,
       count(*) as row_count
from {{ model }}
    {%- if key | length == 1 %}
where {{ key[0] }} is not null
    {%- endif %}
group by {{ key | join(', ') }}
having count(*) > 1
    {%- endset -%}
    {%- do parts.append(part) -%}
{%- endfor -%}
{%- for column, values in checks['accepted_values'] -%}
    {%- set part -%}
select 'accepted_values'::text as check_name, '{{ column }}'::text as column_names,
       {{ column }}::text as failing_value, count(*) as row_count
from {{ model }}
where {{ column }} not in ({% for value in values %}{{ column_checks_literal(value) }}{{ ', ' if not loop.last }}{% endfor %})
group by {{ column }}
    {%- endset -%}
    {%- do parts.append(part) -%}
{%- endfor -%}
{{ parts | join('\nunion all\n') }}
{% endtest %}
