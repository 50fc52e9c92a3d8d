-- One row per (entity, month) holding any feature: the evidence points of each feature family and
-- their sum, with the features that raised them (docs/RISK.md): fct_risk_features and the org
-- link feature of int_risk_org_links. The scorecards add the rule
-- alerts to evidence_points to make risk_score. A view: a sum over fct_risk_features.
{{ config(materialized='view', schema='core') }}

with

features as (

    select entity_type, entity_id, month, feature_code, family, record_type, k, n, raw_value, value,
           peer_group, peer_entities, peer_median, peer_scale, robust_z, points, evidence_records
    from {{ ref('fct_risk_features') }}
    union all
    select entity_type, entity_id, month, feature_code, family, record_type, k, n, raw_value, value,
           null, null, null, null, null, points, evidence_records
    from {{ ref('int_risk_org_links') }}

)

select
    entity_type,
    entity_id,
    month,
    round(coalesce(sum(points) filter (where family = 'bunching'), 0), 2) as bunching_points,
    round(coalesce(sum(points) filter (where family = 'regularity'), 0), 2) as regularity_points,
    round(coalesce(sum(points) filter (where family = 'shared'), 0), 2) as shared_points,
    round(coalesce(sum(points) filter (where family = 'peer_deviation'), 0), 2) as peer_deviation_points,
    round(coalesce(sum(points), 0), 2) as evidence_points,
    count(*) filter (where points > 0) as features_raised,
    coalesce(
        jsonb_agg(
            jsonb_build_object('feature', feature_code, 'family', family, 'robust_z', robust_z, 'points', points,
                               'value', value, 'peer_median', peer_median, 'records', evidence_records)
            order by points desc, feature_code)
            filter (where points > 0),
        '[]'::jsonb) as raised_by
from features
group by entity_type, entity_id, month
