{#-
  Post-hook of the core models (dbt_project.yml): a core table that this run rebuilt whole gets
  its planner statistics at once, before the models that read it run. A table made by
  `create table ... as` has none until autovacuum samples it, a minute or so later; the rules that
  read it seconds later were planned on default guesses (200 groups for any group by, a third of
  the rows for a bound), and on a quarter's day EXAM_DURING_TRAINING joined all 343 k results with
  their candidates' check-ins before applying its 5 k staged results. ANALYZE samples 30 k rows:
  0.06-0.2 s for the core tables at city scale after a quarter. The incremental models keep theirs
  (a day's rows change them little; autovacuum follows): for them the hook renders nothing, and
  dbt runs no statement for an empty hook. -#}
{% macro analyze_rebuilt_table() -%}
    {%- if model.config.materialized == 'table' -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
