-- BI mart: one row per (institution or evaluation org, month, risk feature) with the feature's
-- value, its peers' median, the robust z, the points it adds to risk_score and the records behind
-- it (docs/RISK.md). Entities by their platform ids as in the scorecards; records are session,
-- claim and exam ids (the keys of marts.supervision_alerts), never a person's ID number or name.
{{ config(materialized='table', schema='marts') }}

with

features as (

    select entity_type, entity_id, month, feature_code, family, record_type, k, n, raw_value, value,
           peer_group, peer_entities, peer_median, peer_scale, robust_z, points, evidence_records
    from {{ ref('fct_risk_features') }}
    union all
    select entity_type, entity_id, month, feature_code, family, record_type, k, n, raw_value, value,
           null, null, null, null, null, points, evidence_records
    from {{ ref('int_risk_org_links') }}

),

institutions as (

    select institution_id, district_code from {{ ref('dim_institutions') }}

),

orgs as (

    select org_id, district_code from {{ ref('dim_evaluation_orgs') }}

)

select
    features.entity_type,
    features.entity_id,
    coalesce(institutions.district_code, orgs.district_code) as district_code,
    features.month,
    features.feature_code,
    features.family,
    features.k,
    features.n,
    features.raw_value,
    features.value,
    features.peer_group,
    features.peer_entities,
    features.peer_median,
    features.peer_scale,
    features.robust_z,
    features.points,
    features.record_type,
    features.evidence_records
from features
left join institutions
    on features.entity_type = 'institution' and institutions.institution_id = features.entity_id
left join orgs
    on features.entity_type = 'evaluation_org' and orgs.org_id = features.entity_id
