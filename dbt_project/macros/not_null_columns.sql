{#- The columns a model's not_null_columns test checks (tests/generic/not_null_columns.sql). -#}

{#- The columns the model's YAML marks `config: {meta: {not_null: true}}`, in YAML order. Read from
    the graph when the test runs (at parse time dbt renders the test without it: a placeholder). -#}
{% macro not_null_columns_marked() -%}
    {%- if not execute -%}
        {{- return(['_parsing']) -}}
    {%- endif -%}
    {%- set node = graph.nodes.get(model.attached_node) -%}
    {%- if node is none -%}
        {{- exceptions.raise_compiler_error('not_null_columns runs on models and seeds only: ' ~ model.unique_id) -}}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- if (column.config or {}).get('meta', {}).get('not_null') or column.meta.get('not_null') -%}
            {%- do columns.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not columns -%}
        {{- exceptions.raise_compiler_error(
                'not_null_columns on ' ~ node.name ~ ': no column is marked `config: {meta: {not_null: true}}`') -}}
    {%- endif -%}
    {{- return(columns) -}}
{%- endmacro %}
