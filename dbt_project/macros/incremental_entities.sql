{#-
  Recompute sets of the per-entity core tables and the rules that read them (claims, enrollments,
  trainees): the entities a day's loads reach, through the change sources and high-water marks of
  incremental_rules.sql. New state is read from the staging views (the changed rows), old state
  from `built`, the model's own table (or the fact the rule reads), through its indexes: a class,
  institution, occupation or trainee reloaded reaches the rows that name it; a claim or enrollment
  whose reference moved is itself reloaded. A model's first build and --full-refresh compute
  everything.
-#}

{#- `built` rows whose `column` is a key of `source` rows reloaded since this model last read it. -#}
{% macro _rows_naming_changed(built, key, column, name, source_key=none) -%}
    select {{ key }} from {{ built }}
    where {{ column }} in (select {{ source_key or column }} from {{ change_source(name) }}
                           where {{ changed_since_last_build(name) }})
{%- endmacro %}

{#- Claims whose fct_subsidy_claims row (or CERTIFICATE_MISMATCH finding) may have changed: the
    claim, its enrollment, trainee, class or the class's institution (re)loaded; with
    `certificates`, also a claim naming a certificate (re)loaded. `built` holds every claim's
    enrollment_id, trainee_id, class_id, institution_id (and certificate_no). -#}
{% macro claim_inputs_changed_sql(built, certificates=false) -%}
    select claim_id as recompute_key from {{ change_source('subsidy_claims') }}
    where {{ changed_since_last_build('subsidy_claims') }}
    union all
    {{ _rows_naming_changed(built, 'claim_id', 'enrollment_id', 'enrollments') }}
    union all
    {{ _rows_naming_changed(built, 'claim_id', 'trainee_id', 'trainees') }}
    union all
    {{ _rows_naming_changed(built, 'claim_id', 'class_id', 'classes') }}
    union all
    {{ _rows_naming_changed(built, 'claim_id', 'institution_id', 'institutions') }}
    {%- if certificates %}
    union all
    {{ _rows_naming_changed(built, 'claim_id', 'certificate_no', 'certificates') }}
    {%- endif %}
{%- endmacro %}

{#- Enrollments whose fct_enrollments row may have changed: the enrollment, its trainee, class, the
    class's institution or occupation (re)loaded. -#}
{% macro enrollment_inputs_changed_sql() -%}
    select enrollment_id as recompute_key from {{ change_source('enrollments') }}
    where {{ changed_since_last_build('enrollments') }}
    union all
    {{ _rows_naming_changed(this, 'enrollment_id', 'trainee_id', 'trainees') }}
    union all
    {{ _rows_naming_changed(this, 'enrollment_id', 'class_id', 'classes') }}
    union all
    {{ _rows_naming_changed(this, 'enrollment_id', 'institution_id', 'institutions') }}
    union all
    {{ _rows_naming_changed(this, 'enrollment_id', 'occupation_code', 'occupations', 'occupation_code') }}
{%- endmacro %}

{#- Trainees whose dim_trainees row may have changed: the trainee (re)loaded; the trainee of an
    enrollment (re)loaded (new state) and the trainee whose earliest enrollment it was (old state,
    first_enrollment_id: an enrollment moved to another trainee); the trainees enrolled in a class,
    or a class of an institution, (re)loaded (a class or institution that arrives makes its
    enrollments count; a district corrected moves the trainee). -#}
{% macro trainee_inputs_changed_sql() -%}
    select trainee_id as recompute_key from {{ change_source('trainees') }}
    where {{ changed_since_last_build('trainees') }}
    union all
    select trainee_id from {{ change_source('enrollments') }}
    where {{ changed_since_last_build('enrollments') }}
    {%- if _has_column(this, 'first_enrollment_id') %}
    union all
    {{ _rows_naming_changed(this, 'trainee_id', 'first_enrollment_id', 'enrollments', 'enrollment_id') }}
    {%- endif %}
    union all
    select enrollments.trainee_id
    from {{ change_source('enrollments') }} as enrollments
    where enrollments.class_id in ({{ reloaded_class_ids_sql() }})
{%- endmacro %}

{#- Whether `relation` exists with `column` (a table built before the column existed has no marks
    either: its first incremental run recomputes every entity through the change sources). -#}
{% macro _has_column(relation, column) -%}
    {%- set found = load_relation(relation) if execute and model.resource_type != 'unit_test' else none -%}
    {{- return(found is not none and column in (adapter.get_columns_in_relation(found) | map(attribute='name') | list)) -}}
{%- endmacro %}
