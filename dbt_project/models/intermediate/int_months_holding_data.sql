-- The months the sources hold data for: one row per local month from the first to the last month
-- in which something happened that only a past day can hold (a held session, a completed
-- enrollment, an issued certificate, an exam with results). Planned things (classes and exam
-- sessions scheduled ahead, and the alerts dated on them, e.g. OUT_OF_SCOPE_CLASS on a class's
-- future start_date) do not extend it: the marts' month axes end here, so "the latest month"
-- of a mart is the latest month of data.
-- data_through: the latest local date holding such an event; is_complete: the month ended on or
-- before data_through; is_latest: the month of data_through.
with

activity_days as (

    select starts_on as day from {{ ref('fct_sessions') }} where is_held
    union all
    select completed_on from {{ ref('fct_enrollments') }} where is_completed
    union all
    select issued_on from {{ ref('fct_certificates') }}
    union all
    select exams.starts_on
    from {{ ref('dim_exam_sessions') }} as exams
    where exists (select 1 from {{ ref('fct_exam_results') }} as results where results.exam_id = exams.exam_id)

),

bounds as (

    select min(day) as first_day, max(day) as data_through
    from activity_days
    where day is not null

)

select
    month_start::date as month,
    bounds.data_through,
    (month_start + interval '1 month')::date <= bounds.data_through + 1 as is_complete,
    month_start::date = {{ local_month('bounds.data_through') }} as is_latest
from bounds
cross join generate_series(
    {{ local_month('bounds.first_day') }}, {{ local_month('bounds.data_through') }}, interval '1 month'
) as month_start
