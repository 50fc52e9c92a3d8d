-- Progress against the 2024 work plan (沪就办〔2024〕1号) by district and month, MARTS.md.
-- Every district x month x metric of the years that hold data has a row (zero included); the
-- city row 310000 is the sum of the district rows, except apprenticeship_training, which is the
-- distinct count of persons over the whole city. Only city rows of 2024 carry annual_target.
-- Figures whose district is unknown (institution / org unknown or outside the 16 districts) are
-- left out, of the city row too, so that the city row stays the sum of its districts.
-- has_data: the month lies in the months the sources hold data for (int_months_holding_data),
-- so that "the latest month" is max(month) where has_data, not December of the year.
-- is_city_total marks the city rows, so that a sum over district rows does not count twice.
with

districts as (

    select district_code from {{ ref('districts') }}

),

targets as (

    select * from {{ ref('work_plan_targets_2024') }}

),

metrics as (

    select distinct metric_code from targets

),

months_holding_data as (

    select * from {{ ref('int_months_holding_data') }}

),

completed_enrollments as (

    select * from {{ ref('fct_enrollments') }}
    where is_completed
      and completed_on is not null
      and district_code in (select district_code from districts)

),

certificates as (

    select * from {{ ref('fct_certificates') }}
    where issued_on is not null
      and district_code in (select district_code from districts)

),

evaluation_orgs as (

    select * from {{ ref('dim_evaluation_orgs') }}
    where registered_on is not null
      and district_code in (select district_code from districts)

),

-- apprenticeship: a person counts once a year, in the month of their first completed
-- apprenticeship enrollment of that year (per district for district rows, city-wide for the city)
apprenticeship_completions as (

    select person_key, district_code, completed_on
    from completed_enrollments
    where programme = 'apprenticeship'
      and person_key is not null

),

first_apprenticeship_in_district as (

    select district_code, person_key, min(completed_on) as first_completed_on
    from apprenticeship_completions
    group by district_code, person_key, extract(year from completed_on)

),

first_apprenticeship_in_city as (

    select person_key, min(completed_on) as first_completed_on
    from apprenticeship_completions
    group by person_key, extract(year from completed_on)

),

district_month_events as (

    select 'subsidised_training' as metric_code, district_code, {{ local_month('completed_on') }} as month
    from completed_enrollments where is_subsidised
    union all
    select 'new_skill_training', district_code, {{ local_month('completed_on') }}
    from completed_enrollments where programme = 'new_skill'
    union all
    select 'life_service_training', district_code, {{ local_month('completed_on') }}
    from completed_enrollments where occupation_category = 'life_service'
    union all
    select 'apprenticeship_training', district_code, {{ local_month('first_completed_on') }}
    from first_apprenticeship_in_district
    union all
    select 'high_skill_certificates', district_code, {{ local_month('issued_on') }}
    from certificates where skill_level in (1, 2, 3)
    union all
    select 'new_employer_evaluation_orgs', district_code, {{ local_month('registered_on') }}
    from evaluation_orgs where kind_code = 'employer'
    union all
    select 'new_college_evaluation_orgs', district_code, {{ local_month('registered_on') }}
    from evaluation_orgs where kind_code = 'college'

),

district_month_values as (

    select metric_code, district_code, month, count(*) as month_value
    from district_month_events
    group by metric_code, district_code, month

),

years_with_data as (

    select distinct extract(year from month)::integer as year from district_month_values

),

months as (

    select (make_date(year, 1, 1) + month_offset * interval '1 month')::date as month
    from years_with_data
    cross join generate_series(0, 11) as month_offset

),

district_rows as (

    select
        districts.district_code,
        months.month,
        metrics.metric_code,
        coalesce(district_month_values.month_value, 0) as month_value
    from districts
    cross join months
    cross join metrics
    left join district_month_values
        on district_month_values.district_code = districts.district_code
        and district_month_values.month = months.month
        and district_month_values.metric_code = metrics.metric_code

),

city_apprenticeship as (

    select {{ local_month('first_completed_on') }} as month, count(*) as month_value
    from first_apprenticeship_in_city
    group by 1

),

city_rows as (

    select
        '310000'::text as district_code,
        district_rows.month,
        district_rows.metric_code,
        case
            when district_rows.metric_code = 'apprenticeship_training'
                then coalesce(max(city_apprenticeship.month_value), 0)
            else sum(district_rows.month_value)
        end as month_value
    from district_rows
    left join city_apprenticeship on city_apprenticeship.month = district_rows.month
    group by district_rows.month, district_rows.metric_code

),

all_rows as (

    select * from district_rows
    union all
    select * from city_rows

),

with_ytd as (

    select
        all_rows.district_code,
        all_rows.month,
        all_rows.metric_code,
        all_rows.month_value::bigint as month_value,
        sum(all_rows.month_value) over (
            partition by all_rows.district_code, all_rows.metric_code, extract(year from all_rows.month)
            order by all_rows.month
        )::bigint as ytd_value,
        targets.annual_target
    from all_rows
    left join targets
        on all_rows.district_code = '310000'
        and targets.metric_code = all_rows.metric_code
        and targets.target_year = extract(year from all_rows.month)

)

select
    with_ytd.district_code,
    with_ytd.month,
    with_ytd.metric_code,
    with_ytd.month_value,
    with_ytd.ytd_value,
    with_ytd.annual_target,
    round(with_ytd.ytd_value * 100.0 / nullif(with_ytd.annual_target, 0), 6) as ytd_pct_of_target,
    months_holding_data.month is not null as has_data,
    coalesce(months_holding_data.is_latest, false) as is_latest_month,
    with_ytd.district_code = '310000' as is_city_total
from with_ytd
left join months_holding_data on months_holding_data.month = with_ytd.month
