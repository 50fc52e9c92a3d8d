-- One row per occupation and month of the years that hold data (MARTS.md): whether it is on the
-- urgent-shortage catalogue (急需紧缺职业(工种)目录), completed enrollments (month of completed_on)
-- and certificates issued (month of issued_on) by level band: levels 4-5 (中级工, 初级工) and
-- levels 1-3 (高级工 and above).
with

occupations as (

    select * from {{ ref('dim_occupations') }}

),

completions as (

    select occupation_code, {{ local_month('completed_on') }} as month, count(*) as completed_enrollments
    from {{ ref('fct_enrollments') }}
    where is_completed
      and completed_on is not null
      and occupation_code is not null
    group by 1, 2

),

certificates as (

    select
        occupation_code,
        {{ local_month('issued_on') }} as month,
        count(*) filter (where skill_level in (4, 5)) as certificates_levels_4_5,
        count(*) filter (where skill_level in (1, 2, 3)) as certificates_levels_1_3
    from {{ ref('fct_certificates') }}
    where issued_on is not null
    group by 1, 2

),

years_with_data as (

    select distinct extract(year from month)::integer as year
    from (select month from completions union all select month from certificates) as m

),

months as (

    select (make_date(year, 1, 1) + month_offset * interval '1 month')::date as month
    from years_with_data
    cross join generate_series(0, 11) as month_offset

)

select
    occupations.occupation_code,
    occupations.occupation_name,
    months.month,
    occupations.is_urgent,
    coalesce(completions.completed_enrollments, 0) as completed_enrollments,
    coalesce(certificates.certificates_levels_4_5, 0) as certificates_levels_4_5,
    coalesce(certificates.certificates_levels_1_3, 0) as certificates_levels_1_3
from occupations
cross join months
left join completions
    on completions.occupation_code = occupations.occupation_code
    and completions.month = months.month
left join certificates
    on certificates.occupation_code = occupations.occupation_code
    and certificates.month = months.month
