{#- Generic test: the combination of `columns` is unique (a composite primary key). Written here
    because dbt packages (dbt_utils) cannot be installed on these machines. -#}
{% test unique_combination_of_columns(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
