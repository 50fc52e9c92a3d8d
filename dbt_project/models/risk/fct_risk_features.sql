-- One row per (entity, month, feature): the feature's value, the median and spread of the
-- entity's peers, the robust z and the points it adds to the risk score, with the records behind
-- it (docs/RISK.md). entity_type 'institution' | 'evaluation_org'.
--
--   value      = (k + m x p0) / (n + m): the share k / n pulled towards the month's pooled share p0
--                by m = risk_prior_weight (20) pseudo-observations (risk_prior_weight_few, 2, for the
--                features whose observations are an org's months or an institution's sites), so that a handful of records
--                cannot make an outlier (a new or small entity stays near the pool)
--   peers      = the finest group with at least risk_min_peers entities holding the feature that
--                month: institutions (main occupation, district, size band) -> (occupation, size)
--                -> (size) -> city; orgs (kind, district) -> (kind) -> city
--   robust_z   = (value - peer median) / scale, scale = the larger of 1.4826 x the peers' median
--                absolute deviation, the sampling noise sqrt(v / (n + m)) of the entity's own share
--                (v = p0 (1 - p0); 0.25 for the pass-rate excess) and risk_min_scale
--   points     = min(max(robust_z - risk_z_min, 0), risk_feature_max_points)
--
-- Same month-wise incremental rebuild as the measures it reads.
-- depends_on: {{ ref('dim_exam_sessions') }}
{%- set first_month = risk_first_month("least((select max(starts_on) from " ~ ref('fct_sessions') ~ "), (select max(starts_on) from " ~ ref('dim_exam_sessions') ~ "))") %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='month',
    schema='core',
    on_schema_change='append_new_columns',
    post_hook=["create index if not exists fct_risk_features_entity_idx on {{ this }} (entity_type, entity_id, month)"],
) }}

{%- set prior = var('risk_prior_weight', 20) %}
{%- set prior_few = var('risk_prior_weight_few', 2) %}
{%- set min_peers = var('risk_min_peers', 8) %}
{%- set min_scale = var('risk_min_scale', 0.01) %}
{%- set z_min = var('risk_z_min', 3) %}
{%- set max_points = var('risk_feature_max_points', 5) %}

with

catalogue (feature_code, family) as (

    values
        ('face_checkin_near_line', 'bunching'),
        ('face_match_near_line', 'bunching'),
        ('headcount_near_line', 'bunching'),
        ('coverage_near_line', 'bunching'),
        ('burst_near_line', 'bunching'),
        ('hours_near_line', 'bunching'),
        ('checkin_cadence_regular', 'regularity'),
        ('headcount_loop', 'regularity'),
        ('headcount_loop_shared', 'shared'),
        ('claims_at_cap', 'shared'),
        ('shared_trainees', 'shared'),
        ('shared_site_address', 'shared'),
        ('org_pass_near_line', 'bunching'),
        ('org_identical_near_line', 'bunching'),
        ('org_pass_excess', 'peer_deviation'),
        ('org_pass_excess_months', 'peer_deviation')

),

-- peer keys of an institution's month: its district, the occupation of most of its held sessions,
-- and a size band of held sessions
institution_sessions as (

    select
        sessions.institution_id,
        {{ local_month('sessions.starts_on') }} as month,
        classes.occupation_code,
        count(*) as sessions_held
    from {{ ref('fct_sessions') }} as sessions
    join {{ ref('dim_classes') }} as classes on classes.class_id = sessions.class_id
    where sessions.is_held
      and sessions.institution_id is not null
      and sessions.starts_on >= ({{ first_month }})
    group by 1, 2, 3

),

institution_peers as (

    select
        institution_sessions.institution_id,
        institution_sessions.month,
        (array_agg(institution_sessions.occupation_code
            order by institution_sessions.sessions_held desc, institution_sessions.occupation_code))[1] as occupation_code,
        max(institutions.district_code) as district_code,
        case
            when sum(institution_sessions.sessions_held) < {{ var('risk_size_small_sessions', 20) }} then 'small'
            when sum(institution_sessions.sessions_held) < {{ var('risk_size_large_sessions', 80) }} then 'medium'
            else 'large'
        end as size_band
    from institution_sessions
    left join {{ ref('dim_institutions') }} as institutions
        on institutions.institution_id = institution_sessions.institution_id
    group by institution_sessions.institution_id, institution_sessions.month

),

measures as (

    select
        'institution' as entity_type,
        measures.institution_id as entity_id,
        measures.month,
        measures.feature_code,
        measures.record_type,
        measures.k::numeric as k,
        measures.n::numeric as n,
        measures.evidence_records,
        coalesce(peers.size_band, 'small') as peer_key_1,
        coalesce(peers.occupation_code, '-') || '|' || coalesce(peers.size_band, 'small') as peer_key_2,
        coalesce(peers.occupation_code, '-') || '|' || coalesce(peers.district_code, '-') || '|'
            || coalesce(peers.size_band, 'small') as peer_key_3
    from {{ ref('int_risk_institution_measures') }} as measures
    left join institution_peers as peers
        on peers.institution_id = measures.institution_id
        and peers.month = measures.month
    where measures.month >= ({{ first_month }})

    union all

    select
        'evaluation_org',
        measures.org_id,
        measures.month,
        measures.feature_code,
        measures.record_type,
        measures.k::numeric,
        measures.n::numeric,
        measures.evidence_records,
        coalesce(orgs.kind_code, '-'),
        coalesce(orgs.kind_code, '-') || '|' || coalesce(orgs.district_code, '-'),
        null
    from {{ ref('int_risk_org_measures') }} as measures
    left join {{ ref('dim_evaluation_orgs') }} as orgs on orgs.org_id = measures.org_id
    where measures.month >= ({{ first_month }})

),

pooled as (

    select entity_type, month, feature_code, sum(k) / nullif(sum(n), 0) as p0
    from measures
    group by 1, 2, 3

),

valued as (

    select
        measures.*,
        pooled.p0,
        (measures.k + prior.m * coalesce(pooled.p0, 0)) / (measures.n + prior.m) as value,
        sqrt(
            case when measures.feature_code = 'org_pass_excess' then 0.25
                 else greatest(coalesce(pooled.p0, 0) * (1 - coalesce(pooled.p0, 0)), 0) end
            / (measures.n + prior.m)) as noise
    from measures
    left join pooled
        on pooled.entity_type = measures.entity_type
        and pooled.month = measures.month
        and pooled.feature_code = measures.feature_code
    -- the prior's weight in observations: an entity's months (at most six) and sites are few,
    -- its records many
    cross join lateral (
        select case when measures.feature_code in ('org_pass_excess_months', 'shared_site_address')
                    then {{ prior_few }} else {{ prior }} end as m
    ) as prior

),

{% for level in [0, 1, 2, 3] %}
{%- set key = "'city'" if level == 0 else "peer_key_" ~ level %}
peer_median_{{ level }} as (

    select
        entity_type, month, feature_code, {{ key }} as peer_group,
        count(*) as peer_entities,
        percentile_cont(0.5) within group (order by value) as peer_median
    from valued
    where {{ key }} is not null
    group by 1, 2, 3, 4

),

peer_stats_{{ level }} as (

    select
        peer_median_{{ level }}.entity_type,
        peer_median_{{ level }}.month,
        peer_median_{{ level }}.feature_code,
        peer_median_{{ level }}.peer_group,
        peer_median_{{ level }}.peer_entities,
        peer_median_{{ level }}.peer_median,
        percentile_cont(0.5) within group (order by abs(valued.value - peer_median_{{ level }}.peer_median)) as peer_mad
    from peer_median_{{ level }}
    join valued
        on valued.entity_type = peer_median_{{ level }}.entity_type
        and valued.month = peer_median_{{ level }}.month
        and valued.feature_code = peer_median_{{ level }}.feature_code
        and {{ "'city'" if level == 0 else "valued.peer_key_" ~ level }} = peer_median_{{ level }}.peer_group
    group by 1, 2, 3, 4, 5, 6

),
{% endfor %}

with_peers as (

    select
        valued.*,
        case
            when p3.peer_entities >= {{ min_peers }} then 3
            when p2.peer_entities >= {{ min_peers }} then 2
            when p1.peer_entities >= {{ min_peers }} then 1
            else 0
        end as peer_level,
        p0.peer_group as city_group, p0.peer_entities as city_entities, p0.peer_median as city_median, p0.peer_mad as city_mad,
        p1.peer_group as g1, p1.peer_entities as n1, p1.peer_median as m1, p1.peer_mad as d1,
        p2.peer_group as g2, p2.peer_entities as n2, p2.peer_median as m2, p2.peer_mad as d2,
        p3.peer_group as g3, p3.peer_entities as n3, p3.peer_median as m3, p3.peer_mad as d3
    from valued
    left join peer_stats_0 as p0
        on p0.entity_type = valued.entity_type and p0.month = valued.month and p0.feature_code = valued.feature_code
    left join peer_stats_1 as p1
        on p1.entity_type = valued.entity_type and p1.month = valued.month and p1.feature_code = valued.feature_code
        and p1.peer_group = valued.peer_key_1
    left join peer_stats_2 as p2
        on p2.entity_type = valued.entity_type and p2.month = valued.month and p2.feature_code = valued.feature_code
        and p2.peer_group = valued.peer_key_2
    left join peer_stats_3 as p3
        on p3.entity_type = valued.entity_type and p3.month = valued.month and p3.feature_code = valued.feature_code
        and p3.peer_group = valued.peer_key_3

),

chosen as (

    select
        with_peers.*,
        case peer_level when 3 then g3 when 2 then g2 when 1 then g1 else city_group end as peer_group,
        case peer_level when 3 then n3 when 2 then n2 when 1 then n1 else city_entities end as peer_entities,
        case peer_level when 3 then m3 when 2 then m2 when 1 then m1 else city_median end as peer_median,
        case peer_level when 3 then d3 when 2 then d2 when 1 then d1 else city_mad end as peer_mad
    from with_peers

),

scored as (

    select
        chosen.*,
        greatest(1.4826 * peer_mad, noise, {{ min_scale }}) as peer_scale
    from chosen

)

select
    scored.entity_type,
    scored.entity_id,
    scored.month,
    scored.feature_code,
    catalogue.family,
    scored.record_type,
    round(scored.k, 4) as k,
    scored.n,
    round(scored.k / nullif(scored.n, 0), 4) as raw_value,
    round(scored.p0, 4) as pooled_value,
    round(scored.value, 4) as value,
    scored.peer_group,
    scored.peer_entities,
    round(scored.peer_median::numeric, 4) as peer_median,
    round(scored.peer_scale::numeric, 4) as peer_scale,
    round(((scored.value - scored.peer_median) / scored.peer_scale)::numeric, 2) as robust_z,
    round(least(greatest((scored.value - scored.peer_median) / scored.peer_scale - {{ z_min }}, 0), {{ max_points }})::numeric, 2)
        as points,
    scored.evidence_records
from scored
join catalogue on catalogue.feature_code = scored.feature_code
