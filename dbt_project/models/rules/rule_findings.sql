-- Every finding of the 16 dbt rules, one row per (rule_code, entity_key): what the alert upkeep
-- merges (with ops.gx_rule_findings of the 6 Great Expectations rules) into
-- marts.supervision_alerts. A view: the rule tables hold the complete current findings (each is
-- kept up to date incrementally or rebuilt), so copying their union every run would be the one
-- step whose cost grows with the history; the upkeep reads it once a run.
{{ config(materialized='view') }}
with

findings as (

    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_camera_down') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_headcount_shortfall') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_concurrent_checkin') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_checkin_burst') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_face_not_seen') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_insufficient_hours') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_duplicate_subsidy') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_certificate_mismatch') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_early_claim') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_out_of_scope_class') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_unregistered_site') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_certificate_without_pass') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_abnormal_pass_rate') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_identical_scores') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_exam_during_training') }}
    union all
    select rule_code, entity_type, entity_key, district_code, occurred_on, evidence
    from {{ ref('rule_assessor_double_booked') }}

)

select * from findings
