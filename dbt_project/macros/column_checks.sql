{#- The checks a model's column_checks test runs (tests/generic/column_checks.sql), read from the
    marks of the model's YAML when the test runs (at parse time dbt renders the test without them:
    a placeholder).

    Column marks, beside the column's description:
        config: {meta: {not_null: true, unique: true, accepted_values: [a, b]}}
    a model's (or seed's) composite key, beside the model's description:
        config: {meta: {unique_combination: [session_id, trainee_id]}}

    Returns {not_null: [column], unique: [[column, ...]], accepted_values: [[column, [value]]]}, in
    YAML order; a model whose test has no mark is a compile error. -#}
{% macro column_checks_marked() -%}
    {%- if not execute -%}
        {{- return({'not_null': ['_parsing'], 'unique': [], 'accepted_values': []}) -}}
    {%- endif -%}
    {%- set node = graph.nodes.get(model.attached_node) -%}
    {%- if node is none -%}
        {{- exceptions.raise_compiler_error('column_checks runs on models and seeds only: ' ~ model.unique_id) -}}
    {%- endif -%}
    {%- set checks = {'not_null': [], 'unique': [], 'accepted_values': []} -%}
    {%- for column in node.columns.values() -%}
        {%- set meta = (column.config or {}).get('meta') or column.meta or {} -%}
        {%- if meta.get('not_null') -%}
            {%- do checks['not_null'].append(column.name) -%}
        {%- endif -%}
        {%- if meta.get('unique') -%}
            {%- do checks['unique'].append([column.name]) -%}
        {%- endif -%}
        {%- if meta.get('accepted_values') is not none -%}
            {%- set values = meta.get('accepted_values') -%}
            {%- if values is string or values is mapping or not values -%}
                {{- exceptions.raise_compiler_error('column_checks on ' ~ node.name ~ '.' ~ column.name
                      ~ ': accepted_values must be a non-empty list') -}}
            {%- endif -%}
            {%- do checks['accepted_values'].append([column.name, values]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set key = (node.config.meta or {}).get('unique_combination') or (node.meta or {}).get('unique_combination') -%}
    {%- if key -%}
        {%- if key is string or key | length < 2 -%}
            {{- exceptions.raise_compiler_error('column_checks on ' ~ node.name
                  ~ ': unique_combination must list two or more columns (one column: mark it unique)') -}}
        {%- endif -%}
        {%- do checks['unique'].append(key) -%}
    {%- endif -%}
    {%- if not (checks['not_null'] or checks['unique'] or checks['accepted_values']) -%}
        {{- exceptions.raise_compiler_error(
                'column_checks on ' ~ node.name ~ ': no column is marked not_null, unique or accepted_values'
                ~ ' and the model has no unique_combination') -}}
    {%- endif -%}
    {{- return(checks) -}}
{%- endmacro %}

{#- A value of an accepted_values mark as SQL: numbers as they are, booleans as true/false, text quoted. -#}
{% macro column_checks_literal(value) -%}
    {%- if value is boolean -%}
        {{- 'true' if value else 'false' -}}
    {%- elif value is number -%}
        {{- value -}}
    {%- else -%}
        {{- "'" ~ (value | string | replace("'", "''")) ~ "'" -}}
    {%- endif -%}
{%- endmacro %}
