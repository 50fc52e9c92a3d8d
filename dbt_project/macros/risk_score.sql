{#- The scorecards' combination (docs/RISK.md, decision 0048), one definition for institutions and
    evaluation orgs: risk_score orders the review (alerts count up to the flag line), the grade
    judges the month's record from both parts in full. -#}

{% macro risk_score_sql(rule_score, evidence_score) -%}
    round(least({{ rule_score }}, {{ var('risk_flag_points', 5) }}) + {{ evidence_score }}, 2)
{%- endmacro %}

{% macro risk_grade_sql(rule_score, evidence_score) -%}
    case
        when {{ rule_score }} + {{ evidence_score }} < 2 then 'A'
        when {{ rule_score }} + {{ evidence_score }} < 5 then 'B'
        when {{ rule_score }} + {{ evidence_score }} < 10 then 'C'
        else 'D'
    end
{%- endmacro %}
