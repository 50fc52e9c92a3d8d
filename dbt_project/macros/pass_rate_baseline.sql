{#- The window of ABNORMAL_PASS_RATE's baseline over exams (RULES.md): the exams of the same
    occupation and level (and of `partition_by` more) that started in the pass_rate_baseline_days
    before this one, i.e. starts_at in [starts_at - N days, starts_at). A RANGE frame of N days up
    to the current row, less the current row's peers (EXCLUDE GROUP: the exams starting at the same
    instant, the exam itself among them). Rows with a null occupation, level or starts_at must be
    left out by the caller: a self-join's equalities never held for them. -#}
{% macro pass_rate_baseline_window(partition_by=[]) -%}
    partition by {{ (['occupation_code', 'skill_level'] + partition_by) | join(', ') }}
    order by starts_at
    range between interval '{{ var("pass_rate_baseline_days") }} days' preceding and current row
    exclude group
{%- endmacro %}
