{#- Generic test: none of the model's not-null columns holds a null, in one query (one dbt node per
    model instead of one per column: dbt's cost of a node, about 40 ms, is most of a small day's data
    tests; docs/decisions/0049-one-not-null-test-per-model.md).

    The columns are those marked in the model's YAML, beside their description:

        - name: session_id
          description: Training session id.
          config: {meta: {not_null: true}}

    and the model carries the test once, with the scope its rows need (macros/data_tests_scope.sql):

        data_tests:
        - not_null_columns:
            config:
              where: __latest_build__

    A failing row names a column and the number of its null rows (in the test's scope); when it
    fails, the test materialization (macros/data_tests_failures.sql) writes them to the log. Only
    the rows with a null are counted: a passing day counts nothing, and an index on a column can
    answer its `is null`. -#}
{% test not_null_columns(model) %}
{%- set columns = not_null_columns_marked() -%}
select column_name, null_rows
from (
    select
        {%- for column in columns %}
        count(*) filter (where {{ column }} is null) as nulls_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
    where {% for column in columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
) counts
cross join lateral (values
    {%- for column in columns %}
    ('{{ column }}', nulls_{{ loop.index }}){{ ',' if not loop.last }}
    {%- endfor %}
) as nulls (column_name, null_rows)
where null_rows > 0
{% endtest %}
