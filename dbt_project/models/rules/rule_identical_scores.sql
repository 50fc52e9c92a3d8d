-- IDENTICAL_SCORES (RULES.md): an exam session with n >= 10 results in which one
-- (theory_score, practical_score) pair is shared by >= 30% of them. Scores compare as numbers
-- (85 = 85.0: trimmed in staging). A pair with a missing score is not a score pair and is not
-- counted as shared (it still counts in n). Results of unknown exams do not fire.
-- occurred_on: local date the exam starts (its delivery date when starts_at is missing).
with

exams as (

    select * from {{ ref('dim_exam_sessions') }}

),

results as (

    select * from {{ ref('fct_exam_results') }}
    where is_exam_known

),

results_per_exam as (

    select exam_id, count(*) as results
    from results
    group by exam_id

),

most_shared_score_pair as (

    select distinct on (exam_id)
        exam_id,
        theory_score,
        practical_score,
        count(*) as sharing_results
    from results
    where theory_score is not null
      and practical_score is not null
    group by exam_id, theory_score, practical_score
    order by exam_id, count(*) desc, theory_score, practical_score

),

exams_with_identical_scores as (

    select
        exams.exam_id,
        exams.district_code,
        coalesce(exams.starts_on, exams.delivery_date) as occurred_on,
        results_per_exam.results,
        most_shared_score_pair.theory_score,
        most_shared_score_pair.practical_score,
        most_shared_score_pair.sharing_results
    from exams
    join results_per_exam on results_per_exam.exam_id = exams.exam_id
    join most_shared_score_pair on most_shared_score_pair.exam_id = exams.exam_id
    where results_per_exam.results >= {{ var('identical_min_n') }}
      and most_shared_score_pair.sharing_results >= {{ var('identical_share') }} * results_per_exam.results

)

select
    'IDENTICAL_SCORES'::text as rule_code,
    'exam'::text as entity_type,
    exam_id as entity_key,
    district_code,
    occurred_on,
    jsonb_build_object(
        'results', results,
        'theory_score', theory_score,
        'practical_score', practical_score,
        'sharing_results', sharing_results,
        'share', round(sharing_results::numeric / results, 4)
    ) as evidence
from exams_with_identical_scores
where district_code is not null
