-- CERTIFICATE_WITHOUT_PASS (RULES.md): a certificate whose result_id is empty or unknown, or whose
-- result is not a pass (是否合格 <> 合格) or has a score < 60, or belongs to another person, or
-- whose exam has another occupation_code or skill_level than the certificate. A missing score is
-- not "< 60"; an unknown exam leaves the occupation/level clause unanswered (does not fire on it).
-- District: the issuing org's (unknown org: no district, does not fire).
-- occurred_on: issued_on (the delivery date when issued_on is missing).
with

certificates as (

    select * from {{ ref('fct_certificates') }}

),

results as (

    select * from {{ ref('fct_exam_results') }}

),

certificates_with_result as (

    select
        certificates.certificate_no,
        certificates.district_code,
        coalesce(certificates.issued_on, certificates.delivery_date) as issued_on,
        certificates.result_id,
        certificates.person_key as holder_person_key,
        certificates.occupation_code,
        certificates.skill_level,
        results.result_id is not null as is_result_known,
        results.is_pass,
        results.theory_score,
        results.practical_score,
        results.person_key as candidate_person_key,
        results.is_exam_known,
        results.occupation_code as exam_occupation_code,
        results.skill_level as exam_skill_level
    from certificates
    left join results on results.result_id = certificates.result_id

),

certificates_without_pass as (

    select
        *,
        case
            when result_id is null then 'result_id_empty'
            when not is_result_known then 'result_unknown'
            when not is_pass then 'result_not_pass'
            when theory_score < {{ var('pass_mark') }} or practical_score < {{ var('pass_mark') }} then 'score_below_pass_mark'
            when candidate_person_key <> holder_person_key then 'other_person'
            when is_exam_known and (
                exam_occupation_code is distinct from occupation_code
                or exam_skill_level is distinct from skill_level) then 'exam_of_other_occupation_or_level'
        end as problem
    from certificates_with_result

)

select
    'CERTIFICATE_WITHOUT_PASS'::text as rule_code,
    'certificate'::text as entity_type,
    certificate_no as entity_key,
    district_code,
    issued_on as occurred_on,
    jsonb_build_object(
        'problem', problem,
        'result_id', result_id,
        'passed', is_pass,
        'theory_score', theory_score,
        'practical_score', practical_score,
        'exam_occupation_code', exam_occupation_code,
        'exam_skill_level', exam_skill_level,
        'certificate_occupation_code', occupation_code,
        'certificate_skill_level', skill_level
    ) as evidence
from certificates_without_pass
where problem is not null
  and district_code is not null
  and issued_on is not null
