{#- Business calendar helpers: RULES.md's "local" is var('local_timezone') (the settings' SUPERVISION_LOCAL_TZ, passed as --vars), whatever the server's TimeZone. -#}

{% macro local_date(ts) -%}
    ({{ ts }} at time zone '{{ var("local_timezone") }}')::date
{%- endmacro %}

{% macro local_month(d) -%}
    date_trunc('month', {{ d }})::date
{%- endmacro %}

{#- Timestamptz of local midnight starting a local date. -#}
{% macro local_midnight(d) -%}
    (({{ d }})::timestamp at time zone '{{ var("local_timezone") }}')
{%- endmacro %}
