-- Active alerts of marts.supervision_alerts (written by the alert upkeep, not by dbt) with the
-- training institution or evaluation org their entity belongs to, for the scorecards.
-- session / session_trainee / trainee_sessions (session_a) / attendance -> the session's class's
-- institution; claim, class, enrollment -> the class's institution; trainee -> the institution
-- of the earliest enrollment; exam, result, assessor_exams (exam_a), certificate -> the org.
{{ config(tags=['after_alerts']) }}

with

alerts as (

    select * from {{ ref('stg_alerts__supervision_alerts') }}
    where is_active

),

alerts_with_entity_parts as (

    select
        *,
        case entity_type
            when 'session' then entity_key
            when 'session_trainee' then split_part(entity_key, '|', 1)
            when 'trainee_sessions' then split_part(entity_key, '|', 2)
        end as session_id,
        case entity_type
            when 'exam' then entity_key
            when 'assessor_exams' then split_part(entity_key, '|', 2)
        end as exam_id,
        -- the attendance row's key in its own type: joined as `attendance_id::text = entity_key`,
        -- no index answered it, and each use of this view read all of fct_attendance (8 M rows
        -- after a quarter at city scale, 2-3 s, three uses a day)
        case when entity_type = 'attendance' and entity_key ~ '^[0-9]{1,18}$'
            then entity_key::bigint
        end as attendance_id
    from alerts

),

owners as (

    select
        alerts.alert_id,
        coalesce(
            sessions.institution_id,
            attendance_sessions.institution_id,
            claims.institution_id,
            classes.institution_id,
            enrollments.institution_id,
            trainees.first_institution_id
        ) as institution_id,
        coalesce(exams.org_id, results.org_id, certificates.org_id) as org_id
    from alerts_with_entity_parts as alerts
    left join {{ ref('fct_sessions') }} as sessions on sessions.session_id = alerts.session_id
    left join {{ ref('fct_attendance') }} as attendance
        on attendance.attendance_id = alerts.attendance_id
    left join {{ ref('fct_sessions') }} as attendance_sessions on attendance_sessions.session_id = attendance.session_id
    left join {{ ref('fct_subsidy_claims') }} as claims
        on alerts.entity_type = 'claim' and claims.claim_id = alerts.entity_key
    left join {{ ref('dim_classes') }} as classes
        on alerts.entity_type = 'class' and classes.class_id = alerts.entity_key
    left join {{ ref('fct_enrollments') }} as enrollments
        on alerts.entity_type = 'enrollment' and enrollments.enrollment_id = alerts.entity_key
    left join {{ ref('dim_trainees') }} as trainees
        on alerts.entity_type = 'trainee' and trainees.trainee_id = alerts.entity_key
    left join {{ ref('dim_exam_sessions') }} as exams on exams.exam_id = alerts.exam_id
    left join {{ ref('fct_exam_results') }} as results
        on alerts.entity_type = 'result' and results.result_id = alerts.entity_key
    left join {{ ref('fct_certificates') }} as certificates
        on alerts.entity_type = 'certificate' and certificates.certificate_no = alerts.entity_key

)

select
    alerts.alert_id,
    alerts.rule_code,
    alerts.severity,
    alerts.entity_type,
    alerts.entity_key,
    alerts.district_code,
    owners.institution_id,
    owners.org_id,
    alerts.status,
    alerts.occurred_on,
    {{ local_month('alerts.occurred_on') }} as occurred_month
from alerts_with_entity_parts as alerts
join owners on owners.alert_id = alerts.alert_id
