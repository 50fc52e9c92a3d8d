-- One row per (evaluation org, month of exam start, feature): the counts behind each org feature
-- of docs/RISK.md (k of n) and up to five exams behind it. Same month-wise incremental rebuild as
-- int_risk_institution_measures; the persistence feature reads the five months before as well.
-- depends_on: {{ ref('dim_exam_sessions') }}
{%- set first_month = risk_first_month("(select max(starts_on) from " ~ ref('dim_exam_sessions') ~ ")") %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='month',
    schema='intermediate',
    on_schema_change='append_new_columns',
) }}

{%- set pass_band = var('risk_pass_rate_band', 0.06) %}
{%- set n_band = var('risk_pass_rate_n_band', 10) %}
{%- set exam_min_n = var('risk_exam_min_n', 10) %}
{%- set excess_line = var('risk_pass_excess_line', 0.05) %}
{%- set baseline_min_n = var('risk_baseline_min_n', 30) %}
{%- set identical_band = var('risk_identical_band', 0.1) %}

with

-- the exams of the window (the months recomputed, the five before for persistence, and the
-- baseline's days before those) with their results; the results of older exams are not counted
window_exams as (

    select exam_id, org_id, occupation_code, skill_level, starts_at, starts_on
    from {{ ref('dim_exam_sessions') }}
    where org_id is not null
      and starts_on >= ({{ first_month }} - interval '5 months' - interval '{{ var("pass_rate_baseline_days") }} days')

),

results_per_exam as (

    select exam_id, count(*) as results, count(*) filter (where is_pass) as passes
    from {{ ref('fct_exam_results') }}
    where exam_id in (select exam_id from window_exams)
    group by exam_id

),

all_exams as (

    select
        window_exams.exam_id,
        window_exams.org_id,
        window_exams.occupation_code,
        window_exams.skill_level,
        window_exams.starts_at,
        results_per_exam.results,
        results_per_exam.passes,
        results_per_exam.passes::numeric / nullif(results_per_exam.results, 0) as pass_rate,
        {{ local_month('window_exams.starts_on') }} as month
    from window_exams
    join results_per_exam on results_per_exam.exam_id = window_exams.exam_id
    -- an exam of a handful of results passes or fails almost whole: too small to speak of an
    -- org's standard or to make a baseline
    where results_per_exam.results >= {{ exam_min_n }}

),

-- the baseline of an exam: the pooled pass rate of the exams of the same occupation and level
-- that OTHER orgs held in the pass_rate_baseline_days before it (the rule's b pools the org's own
-- exams too, so an org that dominates an occupation would set its own baseline)
other_orgs_baseline as (

    -- all orgs' exams of the frame less the org's own (a window each, as in
    -- int_exams_joined_to_pass_rate_baseline: the join of each exam with every other exam of its
    -- year grew with the square of the exams); an exam without occupation or level has none
    select exam_id, baseline_results, baseline_passes
    from (
        select
            exam_id,
            starts_at,
            sum(results) over same_kind_year_before
                - coalesce(sum(results) over own_same_kind_year_before, 0) as baseline_results,
            sum(passes) over same_kind_year_before
                - coalesce(sum(passes) over own_same_kind_year_before, 0) as baseline_passes
        from all_exams
        where occupation_code is not null
          and skill_level is not null
        window
            same_kind_year_before as ({{ pass_rate_baseline_window() }}),
            own_same_kind_year_before as ({{ pass_rate_baseline_window(['org_id']) }})
    ) as framed
    where starts_at >= ({{ first_month }} - interval '5 months')

),

exams as (

    select
        all_exams.exam_id,
        all_exams.org_id,
        all_exams.results,
        all_exams.passes,
        all_exams.pass_rate,
        case when baseline.baseline_results >= {{ baseline_min_n }}
            then baseline.baseline_passes::numeric / baseline.baseline_results end as peer_pass_rate,
        all_exams.month
    from all_exams
    left join other_orgs_baseline as baseline on baseline.exam_id = all_exams.exam_id
    where all_exams.month >= ({{ first_month }} - interval '5 months')

),

-- bunching: exams one step short of ABNORMAL_PASS_RATE: n >= pass_rate_min_n with p just under
-- pass_rate_min, or n just under pass_rate_min_n with p >= pass_rate_min
pass_near_line as (

    select
        org_id, month, 'org_pass_near_line' as feature_code,
        count(*) filter (where
            (results >= {{ var('pass_rate_min_n') }} and pass_rate >= {{ var('pass_rate_min') }} - {{ pass_band }})
            or (results < {{ var('pass_rate_min_n') }} and pass_rate >= {{ var('pass_rate_min') }})) as k,
        count(*) as n,
        exam_id as record_id,
        grouping(exam_id) = 1 as is_total
    from exams
    where results >= {{ var('pass_rate_min_n') }} - {{ n_band }}
      and not (results >= {{ var('pass_rate_min_n') }} and pass_rate >= {{ var('pass_rate_min') }})
      and month >= ({{ first_month }})
    group by grouping sets ((org_id, month), (org_id, month, exam_id))

),

-- peer deviation: passes above the other orgs' baseline of the occupation and level, per result
pass_excess as (

    select
        org_id, month, 'org_pass_excess' as feature_code,
        sum(passes - results * peer_pass_rate) as k,
        sum(results) as n,
        exam_id as record_id,
        grouping(exam_id) = 1 as is_total
    from exams
    where peer_pass_rate is not null
      and month >= ({{ first_month }})
    group by grouping sets ((org_id, month), (org_id, month, exam_id))

),

-- peer deviation, persistence: of the org's months (this and the five before) with
-- >= pass_rate_min_n baselined results, those whose excess is above risk_pass_excess_line
monthly_excess as (

    select org_id, month, sum(passes - results * peer_pass_rate) / sum(results) as excess
    from exams
    where peer_pass_rate is not null
    group by org_id, month
    having sum(results) >= {{ var('pass_rate_min_n') }}

),

org_months as (

    select distinct org_id, month from exams where month >= ({{ first_month }})

),

pass_excess_months as (

    select
        org_months.org_id, org_months.month, 'org_pass_excess_months' as feature_code,
        count(*) filter (where monthly_excess.excess > {{ excess_line }}) as k,
        count(*) as n,
        null::text as record_id,
        true as is_total
    from org_months
    join monthly_excess
        on monthly_excess.org_id = org_months.org_id
        and monthly_excess.month between (org_months.month - interval '5 months')::date and org_months.month
    group by org_months.org_id, org_months.month

),

-- bunching: the most common (theory, practical) pair just under identical_share of an exam
score_pairs as (

    select results.exam_id, count(*) as same_pair
    from {{ ref('fct_exam_results') }} as results
    where results.exam_id in (select exam_id from exams where month >= ({{ first_month }}))
    group by results.exam_id, results.theory_score, results.practical_score

),

top_pair as (

    select exams.org_id, exams.month, exams.exam_id, exams.results, max(score_pairs.same_pair) as same_pair
    from exams
    join score_pairs on score_pairs.exam_id = exams.exam_id
    where exams.results >= {{ var('identical_min_n') }}
    group by exams.org_id, exams.month, exams.exam_id, exams.results

),

identical_near_line as (

    select
        org_id, month, 'org_identical_near_line' as feature_code,
        count(*) filter (where same_pair >= ({{ var('identical_share') }} - {{ identical_band }}) * results) as k,
        count(*) as n,
        exam_id as record_id,
        grouping(exam_id) = 1 as is_total
    from top_pair
    where same_pair < {{ var('identical_share') }} * results
    group by grouping sets ((org_id, month), (org_id, month, exam_id))

),

per_record as (

    select org_id, month, feature_code, k, n, record_id, is_total from pass_near_line
    union all
    select org_id, month, feature_code, k, n, record_id, is_total from pass_excess
    union all
    select org_id, month, feature_code, k, n, record_id, is_total from pass_excess_months
    union all
    select org_id, month, feature_code, k, n, record_id, is_total from identical_near_line

),

evidence as (

    select
        org_id, month, feature_code,
        jsonb_agg(record_id order by k desc, record_id) filter (where rank <= 5) as records
    from (
        select *, row_number() over (partition by org_id, month, feature_code order by k desc, record_id) as rank
        from per_record
        where not is_total and record_id is not null and k > 0
    ) as ranked
    group by org_id, month, feature_code

)

select
    totals.org_id,
    totals.month,
    totals.feature_code,
    case when totals.feature_code = 'org_pass_excess_months' then 'month' else 'exam' end as record_type,
    totals.k,
    totals.n,
    coalesce(evidence.records, '[]'::jsonb) as evidence_records
from per_record as totals
left join evidence
    on evidence.org_id = totals.org_id
    and evidence.month = totals.month
    and evidence.feature_code = totals.feature_code
where totals.is_total
  and totals.n > 0
