-- The review application's own schema: users, assignments, the append-only audit trail of every
-- review decision, the risk review verdicts and their trail, login throttling, notification
-- bookkeeping, and the alert -> subject links the list filters and "related alerts" use. Idempotent: applied by supervision.review.db.install().
-- Row-level security, roles and grants are in supervision.access.rls (install_security).

create schema if not exists review;

-- One row per person who may log in. district_code null = city (all districts).
create table if not exists review.users (
    username text primary key check (username ~ '^[A-Za-z0-9_.@-]{2,64}$'),
    password_hash text not null,                   -- argon2id
    district_code text check (district_code ~ '^31[0-9]{4}$' and district_code <> '310000'),
    display_name text,
    active boolean not null default true,
    created_at timestamptz not null default now(),
    password_changed_at timestamptz not null default now());
alter table review.users add column if not exists session_epoch bigint not null default 0;
comment on table review.users is 'Review application users: city staff (district_code null) or one district bureau''s staff.';
comment on column review.users.session_epoch is 'Sessions carry the epoch they were issued in; raising it ends every session of the user (logout, password change, disabling, moving district).';

-- A new password (password_changed_at; a rehash on login keeps it), disabling, or another district
-- ends the user's sessions, whoever makes the change.
create or replace function review.end_sessions_on_change() returns trigger language plpgsql as $$
begin
    if new.password_changed_at is distinct from old.password_changed_at or new.active is distinct from old.active
       or new.district_code is distinct from old.district_code then
        new.session_epoch := old.session_epoch + 1;
    end if;
    return new;
end $$;
create or replace trigger users_end_sessions before update on review.users
    for each row execute function review.end_sessions_on_change();

-- Who is working on an alert (current state; every change is also an event below).
create table if not exists review.assignments (
    alert_id text primary key,
    district_code text not null,
    assignee text,
    assigned_by text not null,
    assigned_at timestamptz not null default now());
create index if not exists assignments_assignee_idx on review.assignments (assignee);
comment on table review.assignments is 'Current assignee of an alert; the history is in review.alert_events.';

-- Append-only audit trail: every triage action (status change, assignment, comment).
create table if not exists review.alert_events (
    event_id bigserial primary key,
    alert_id text not null,
    district_code text not null,
    at timestamptz not null default clock_timestamp(),
    username text not null,
    action text not null check (action in ('assign', 'confirm', 'dismiss', 'resolve', 'reopen', 'comment')),
    from_status text,
    to_status text,
    assignee text,
    comment text,
    check (action <> 'dismiss' or length(btrim(coalesce(comment, ''))) > 0));
alter table review.alert_events add column if not exists db_role text;
comment on column review.alert_events.db_role is 'The database role that wrote the event (set by trigger): a review group role, or the owner for maintenance rows.';
create index if not exists alert_events_alert_idx on review.alert_events (alert_id, at);
create index if not exists alert_events_at_idx on review.alert_events (at);
comment on table review.alert_events is 'Append-only audit trail of review decisions (who, when, what, from, to, comment). UPDATE, DELETE and TRUNCATE are refused by trigger.';

create or replace function review.forbid_audit_change() returns trigger language plpgsql as $$
begin
    raise exception '%.% is append-only (% refused)', tg_table_schema, tg_table_name, tg_op
        using errcode = 'insufficient_privilege';
end $$;
drop trigger if exists alert_events_append_only on review.alert_events;
create trigger alert_events_append_only before update or delete on review.alert_events
    for each row execute function review.forbid_audit_change();
drop trigger if exists alert_events_no_truncate on review.alert_events;
create trigger alert_events_no_truncate before truncate on review.alert_events
    for each statement execute function review.forbid_audit_change();

-- Who and when come from the database, not from the row. The application names the reviewer of
-- its transaction (set_config('review.actor', name, true)) after SET LOCAL ROLE to the reviewer's
-- group role; an event's user is that reviewer, who must be an active user of that very role (a
-- district role sees only its own district's users), and its time is the database clock. The
-- schema owner (maintenance, backfills) is exempt: it owns the table and could drop the trigger.
create or replace function review.stamp_audit_event() returns trigger language plpgsql
set search_path = pg_catalog, pg_temp as $$
declare
    actor text := nullif(current_setting('review.actor', true), '');
    actor_district text;
    actor_role text;
begin
    new.db_role := current_user;
    if pg_has_role(current_user, (select relowner from pg_class where oid = tg_relid), 'usage') then
        new.at := coalesce(new.at, clock_timestamp());
        new.username := coalesce(actor, new.username, current_user::text);
        return new;
    end if;
    if actor is null then
        raise exception '%.%: no reviewer named for this transaction (review.actor)', tg_table_schema, tg_table_name
            using errcode = 'insufficient_privilege';
    end if;
    select u.district_code into actor_district from review.users u where u.username = actor and u.active;
    if not found then
        raise exception '%.%: % is not an active user of role %', tg_table_schema, tg_table_name, actor,
            current_user using errcode = 'insufficient_privilege';
    end if;
    -- the role names of supervision.access.names.role_for
    actor_role := case when actor_district is null then 'supervision_city'
                       else 'supervision_district_' || actor_district end;
    if actor_role <> current_user::text then
        raise exception '%.%: % acts as %, not as %', tg_table_schema, tg_table_name, actor, actor_role,
            current_user using errcode = 'insufficient_privilege';
    end if;
    new.username := actor;
    new.at := clock_timestamp();
    return new;
end $$;
create or replace trigger alert_events_stamp before insert on review.alert_events
    for each row execute function review.stamp_audit_event();

-- An event is what changes an alert: a status event moves the alert's status (from the event's
-- from_status, which must be the alert's, to its to_status, as review.catalogue.ACTIONS allows),
-- an assign event sets the assignment. SECURITY DEFINER: the application's roles may not UPDATE
-- the alert's status nor write assignments themselves, so no change happens without its event.
-- Row-level security has already checked each event's district_code against the inserting role;
-- the alert must be of that district. Once per INSERT statement, set-based (a bulk triage of 500
-- alerts is one statement); one event per alert in a statement.
create or replace function review.apply_audit_events() returns trigger language plpgsql security definer
set search_path = pg_catalog, pg_temp as $$
declare
    bad record;
    status_events integer;
    moved integer;
begin
    -- one statement, one inserting role (db_role): the owner's own rows change nothing
    if pg_has_role((select e.db_role from new_events e limit 1),
                   (select relowner from pg_class where oid = tg_relid), 'usage') is not false then
        return null;
    end if;
    select e.alert_id, e.action, e.from_status, e.to_status into bad from new_events e
     where case when e.action in ('assign', 'comment') then e.to_status is distinct from e.from_status
                else (e.action, e.from_status, e.to_status) not in (
                    ('confirm', 'open', 'confirmed'),
                    ('dismiss', 'open', 'dismissed'), ('dismiss', 'confirmed', 'dismissed'),
                    ('resolve', 'open', 'resolved'), ('resolve', 'confirmed', 'resolved'),
                    ('reopen', 'confirmed', 'open'), ('reopen', 'dismissed', 'open'),
                    ('reopen', 'resolved', 'open')) is not false end
     limit 1;
    if found then
        raise exception 'review.alert_events: % from % to % is not a triage step (alert %)', bad.action,
            bad.from_status, bad.to_status, bad.alert_id using errcode = 'check_violation';
    end if;
    select e.alert_id into bad from new_events e group by e.alert_id having count(*) > 1 limit 1;
    if found then
        raise exception 'review.alert_events: one event per alert in a statement (alert %)', bad.alert_id
            using errcode = 'check_violation';
    end if;
    -- every event's alert, of its district, in its from_status
    select e.alert_id, e.district_code, e.from_status, a.status into bad from new_events e
      left join marts.supervision_alerts a on a.alert_id = e.alert_id and a.district_code = e.district_code
     where a.status is distinct from e.from_status
     limit 1;
    if found then
        raise exception 'review.alert_events: alert % of district % is %, not %', bad.alert_id, bad.district_code,
            coalesce(bad.status, 'missing'), bad.from_status using errcode = 'check_violation';
    end if;
    select count(*) into status_events from new_events e where e.to_status is distinct from e.from_status;
    if status_events > 0 then
        update marts.supervision_alerts a set status = e.to_status from new_events e
         where a.alert_id = e.alert_id and a.district_code = e.district_code and a.status = e.from_status
           and e.to_status is distinct from e.from_status;
        get diagnostics moved = row_count;
        if moved <> status_events then   -- changed between the check and the update
            raise exception 'review.alert_events: % of % alerts changed meanwhile', status_events - moved,
                status_events using errcode = 'check_violation';
        end if;
    end if;
    insert into review.assignments as s (alert_id, district_code, assignee, assigned_by, assigned_at)
    select e.alert_id, e.district_code, e.assignee, e.username, e.at from new_events e where e.action = 'assign'
    on conflict (alert_id) do update set assignee = excluded.assignee, assigned_by = excluded.assigned_by,
        assigned_at = excluded.assigned_at, district_code = excluded.district_code;
    return null;
end $$;
create or replace trigger alert_events_apply after insert on review.alert_events
    referencing new table as new_events for each statement execute function review.apply_audit_events();

-- Risk review: a supervisor's verdict on a risk finding, i.e. a training institution or an
-- evaluation org in one month as the risk page shows it (marts.institution_scorecard,
-- marts.evaluation_org_quality). Not alerts: the alert table holds the contract's rules only.
-- The same guarantees as the alert trail: events are append-only, stamped with the reviewer and
-- the database clock (review.stamp_audit_event), and the only way a standing verdict changes.
create table if not exists review.risk_verdict_events (
    event_id bigserial primary key,
    entity_type text not null check (entity_type in ('institution', 'evaluation_org')),
    entity_id text not null check (length(entity_id) between 1 and 64),
    month date not null check (month = date_trunc('month', month)::date),
    district_code text not null,
    at timestamptz not null default clock_timestamp(),
    username text not null,
    action text not null check (action in ('confirm', 'dismiss', 'reopen')),
    from_verdict text not null check (from_verdict in ('open', 'confirmed', 'dismissed')),
    to_verdict text not null check (to_verdict in ('open', 'confirmed', 'dismissed')),
    comment text,
    risk_score numeric,
    evidence_score numeric,
    db_role text,
    check (action = 'confirm' or length(btrim(coalesce(comment, ''))) > 0));
create index if not exists risk_verdict_events_finding_idx on review.risk_verdict_events (entity_type, entity_id, month, at);
comment on table review.risk_verdict_events is 'Append-only audit trail of risk review verdicts (who, when, which finding, from, to, reason). UPDATE, DELETE and TRUNCATE are refused by trigger.';
comment on column review.risk_verdict_events.risk_score is 'The finding''s risk_score in its scorecard when the verdict was recorded (set by trigger).';
comment on column review.risk_verdict_events.evidence_score is 'The finding''s evidence_score in its scorecard when the verdict was recorded (set by trigger).';
comment on column review.risk_verdict_events.db_role is 'The database role that wrote the event (set by trigger).';

-- The standing verdict of each finding that has one (current state; written only by the events'
-- trigger). verdict open: reopened, awaiting a new verdict.
create table if not exists review.risk_verdicts (
    entity_type text not null,
    entity_id text not null,
    month date not null,
    district_code text not null,
    verdict text not null check (verdict in ('open', 'confirmed', 'dismissed')),
    comment text,
    decided_by text not null,
    decided_at timestamptz not null,
    event_id bigint not null,
    primary key (entity_type, entity_id, month));
create index if not exists risk_verdicts_month_idx on review.risk_verdicts (month, district_code);
comment on table review.risk_verdicts is 'Standing risk review verdict per finding (institution or evaluation org and month); the history is in review.risk_verdict_events.';

drop trigger if exists risk_verdict_events_append_only on review.risk_verdict_events;
create trigger risk_verdict_events_append_only before update or delete on review.risk_verdict_events
    for each row execute function review.forbid_audit_change();
drop trigger if exists risk_verdict_events_no_truncate on review.risk_verdict_events;
create trigger risk_verdict_events_no_truncate before truncate on review.risk_verdict_events
    for each statement execute function review.forbid_audit_change();
-- triggers of one kind fire in name order: the reviewer and the time first, then the verdict
create or replace trigger risk_verdict_events_1_stamp before insert on review.risk_verdict_events
    for each row execute function review.stamp_audit_event();

-- An event is what changes a finding's standing verdict. The finding must be in its scorecard for
-- that month and of the event's district (row-level security has checked the district against the
-- inserting role); from_verdict must be the standing one ('open' without any), and the step one of
-- review.risk_review.ACTIONS. SECURITY DEFINER: the application's roles may not write
-- review.risk_verdicts themselves, nor read a scorecard they are not granted. A concurrent verdict
-- on the same finding makes one of the two fail (the conditional upsert changes no row).
create or replace function review.apply_risk_verdict_event() returns trigger language plpgsql security definer
set search_path = pg_catalog, pg_temp as $$
declare
    finding_district text;
    score numeric;
    evidence numeric;
    moved integer;
begin
    if (new.action, new.from_verdict, new.to_verdict) not in (
            ('confirm', 'open', 'confirmed'), ('dismiss', 'open', 'dismissed'),
            ('dismiss', 'confirmed', 'dismissed'), ('reopen', 'confirmed', 'open'),
            ('reopen', 'dismissed', 'open')) then
        raise exception 'review.risk_verdict_events: % from % to % is not a risk review step', new.action,
            new.from_verdict, new.to_verdict using errcode = 'check_violation';
    end if;
    if new.entity_type = 'institution' then
        select s.district_code, s.risk_score, s.evidence_score into finding_district, score, evidence
          from marts.institution_scorecard s where s.institution_id = new.entity_id and s.month = new.month;
    else
        select s.district_code, s.risk_score, s.evidence_score into finding_district, score, evidence
          from marts.evaluation_org_quality s where s.org_id = new.entity_id and s.month = new.month;
    end if;
    if finding_district is distinct from new.district_code then
        raise exception 'review.risk_verdict_events: no % % of district % in month %', new.entity_type,
            new.entity_id, new.district_code, new.month using errcode = 'check_violation';
    end if;
    new.risk_score := score;
    new.evidence_score := evidence;
    if new.from_verdict = 'open' then
        insert into review.risk_verdicts as v (entity_type, entity_id, month, district_code, verdict, comment,
                                               decided_by, decided_at, event_id)
        values (new.entity_type, new.entity_id, new.month, new.district_code, new.to_verdict, new.comment,
                new.username, new.at, new.event_id)
        on conflict (entity_type, entity_id, month) do update set
            district_code = excluded.district_code, verdict = excluded.verdict, comment = excluded.comment,
            decided_by = excluded.decided_by, decided_at = excluded.decided_at, event_id = excluded.event_id
        where v.verdict = 'open';
    else
        update review.risk_verdicts v set verdict = new.to_verdict, comment = new.comment,
            decided_by = new.username, decided_at = new.at, event_id = new.event_id, district_code = new.district_code
         where v.entity_type = new.entity_type and v.entity_id = new.entity_id and v.month = new.month
           and v.verdict = new.from_verdict;
    end if;
    get diagnostics moved = row_count;
    if moved <> 1 then
        raise exception 'review.risk_verdict_events: the verdict on % % (%) is not %', new.entity_type, new.entity_id,
            new.month, new.from_verdict using errcode = 'check_violation';
    end if;
    return new;
end $$;
create or replace trigger risk_verdict_events_2_apply before insert on review.risk_verdict_events
    for each row execute function review.apply_risk_verdict_event();

-- Login attempts, for throttling (kept 30 days).
create table if not exists review.login_attempts (
    attempt_id bigserial primary key,
    username text not null,
    client_ip text not null,
    at timestamptz not null default now(),
    ok boolean not null);
create index if not exists login_attempts_key_idx on review.login_attempts (username, client_ip, at);
create index if not exists login_attempts_ip_idx on review.login_attempts (client_ip, at);

-- High-severity alerts already e-mailed (so a retried notification never sends twice).
create table if not exists review.notifications (
    alert_id text primary key,
    district_code text not null,
    recipient text not null,
    sent_at timestamptz not null default now());

-- The subjects an alert is about, resolved from the raw layer: the training institution, the
-- evaluation org, the person (person_key pseudonym), the exam. Filled by review.refresh_alert_links().
create table if not exists review.alert_links (
    alert_id text primary key,
    district_code text not null,
    institution_id text,
    org_id text,
    person_key text,
    exam_id text,
    session_id text,
    refreshed_at timestamptz not null default now());
create index if not exists alert_links_institution_idx on review.alert_links (institution_id);
create index if not exists alert_links_org_idx on review.alert_links (org_id);
create index if not exists alert_links_person_idx on review.alert_links (person_key);
create index if not exists alert_links_exam_idx on review.alert_links (exam_id);

create table if not exists review.link_state (
    id boolean primary key default true check (id),
    high_water timestamptz not null);

-- Indexes for the list page's sorts and filters (keyset paging: every sort ends in alert_id).
create index if not exists review_alerts_occurred_idx on marts.supervision_alerts (occurred_on, alert_id);
create index if not exists review_alerts_first_idx on marts.supervision_alerts (first_detected_at, alert_id);
create index if not exists review_alerts_last_idx on marts.supervision_alerts (last_detected_at, alert_id);
create index if not exists review_alerts_rule_idx on marts.supervision_alerts (rule_code, occurred_on, alert_id);
create index if not exists review_alerts_district_idx on marts.supervision_alerts (district_code, occurred_on, alert_id);
create index if not exists review_alerts_status_idx on marts.supervision_alerts (status, occurred_on, alert_id);
create index if not exists review_alerts_severity_idx on marts.supervision_alerts
    ((case severity when 'high' then 3 when 'medium' then 2 else 1 end), occurred_on, alert_id);
create index if not exists review_alerts_entity_idx on marts.supervision_alerts (entity_key);
create index if not exists review_alerts_entity_parts_idx on marts.supervision_alerts
    using gin (string_to_array(entity_key, '|'));

-- An alert's status changes only through its audit event (review.apply_audit_event runs as the
-- owner): any other role is refused, should it ever be granted UPDATE.
create or replace function review.guard_alert_status() returns trigger language plpgsql
set search_path = pg_catalog, pg_temp as $$
begin
    if new.status is distinct from old.status
       and not pg_has_role(current_user, (select relowner from pg_class where oid = tg_relid), 'usage') then
        raise exception 'marts.supervision_alerts: a status changes only through its event in review.alert_events'
            using errcode = 'insufficient_privilege';
    end if;
    return new;
end $$;
create or replace trigger review_status_through_events before update of status on marts.supervision_alerts
    for each row execute function review.guard_alert_status();

-- Evidence look-ups on the raw layer the loaders' DDL does not index (additive, review_ prefix).
create index if not exists review_sessions_class_idx on raw_training.sessions (class_id);
create index if not exists review_cameras_site_idx on raw_training.cameras (site_id);
create index if not exists review_trainees_person_idx on raw_training.trainees (person_key);
create index if not exists review_claims_trainee_idx on raw_training.subsidy_claims (trainee_id);
create index if not exists review_claims_enrollment_idx on raw_training.subsidy_claims (enrollment_id);
create index if not exists review_enrollments_trainee_idx on raw_training.enrollments (trainee_id);
create index if not exists review_exam_results_person_idx on raw_assessment.exam_results (person_key);
create index if not exists review_exam_sessions_occ_idx on raw_assessment.exam_sessions (occupation_code, skill_level, starts_at);

-- Resolve new alerts to their subjects (once: an alert id stands for a fixed rule and entity). SECURITY DEFINER: runs as the schema owner
-- (reads the raw layer and every district), callable by the application's login role.
drop function if exists review.refresh_alert_links();
create or replace function review.refresh_alert_links(p_alert_id text default null) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    hw timestamptz;
    new_hw timestamptz;
    n integer;
begin
    if p_alert_id is null then
        perform pg_advisory_xact_lock(7400077);
        select high_water into hw from review.link_state;
        select max(first_detected_at) into new_hw from marts.supervision_alerts;
        if new_hw is null or (hw is not null and new_hw <= hw) then
            return 0;
        end if;
    end if;
    with todo as (
        select a.alert_id, a.district_code, a.entity_type, a.entity_key,
               split_part(a.entity_key, '|', 1) as k1, split_part(a.entity_key, '|', 2) as k2,
               split_part(a.entity_key, '|', 3) as k3
        from marts.supervision_alerts a
        where (p_alert_id is null and (hw is null or a.first_detected_at > hw)) or a.alert_id = p_alert_id
    ), sess as (   -- session-like entities: the session, its class's institution, and a trainee if any
        select t.alert_id,
               case t.entity_type when 'session' then t.k1 when 'session_trainee' then t.k1
                    when 'trainee_sessions' then t.k2 when 'attendance' then att.session_id end as session_id,
               case t.entity_type when 'session_trainee' then t.k2 when 'trainee_sessions' then t.k1
                    when 'attendance' then att.trainee_id end as trainee_id
        from todo t
        left join raw_training.attendance att
            on t.entity_type = 'attendance'
           and att.attendance_id = (case when t.k1 ~ '^[0-9]{1,18}$' then t.k1::bigint end)
        where t.entity_type in ('session', 'session_trainee', 'trainee_sessions', 'attendance')
    ), resolved as (
        select s.alert_id, c.institution_id, null::text as org_id, tr.person_key, null::text as exam_id,
               s.session_id
        from sess s
        left join raw_training.sessions se on se.session_id = s.session_id
        left join raw_training.classes c on c.class_id = se.class_id
        left join raw_training.trainees tr on tr.trainee_id = s.trainee_id
        union all
        select t.alert_id, c.institution_id, null, tr.person_key, null, null
        from todo t
        left join raw_training.subsidy_claims cl on t.entity_type = 'claim' and cl.claim_id = t.k1
        left join raw_training.enrollments en
            on en.enrollment_id = case when t.entity_type = 'claim' then cl.enrollment_id else t.k1 end
        left join raw_training.classes c
            on c.class_id = case when t.entity_type = 'class' then t.k1 else en.class_id end
        left join raw_training.trainees tr
            on tr.trainee_id = case when t.entity_type = 'claim' then cl.trainee_id else en.trainee_id end
        where t.entity_type in ('claim', 'enrollment', 'class')
        union all
        select t.alert_id, null, coalesce(ex.org_id, ce.org_id), coalesce(r.person_key, ce.person_key),
               ex.exam_id, null
        from todo t
        left join raw_assessment.certificates ce on t.entity_type = 'certificate' and ce.certificate_no = t.k1
        left join raw_assessment.exam_results r
            on r.result_id = case when t.entity_type = 'result' then t.k1 else ce.result_id end
        left join raw_assessment.exam_sessions ex
            on ex.exam_id = case when t.entity_type = 'exam' then t.k1
                                 when t.entity_type = 'assessor_exams' then t.k2 else r.exam_id end
        where t.entity_type in ('certificate', 'result', 'exam', 'assessor_exams')
        union all
        select t.alert_id,
               (select c.institution_id from raw_training.enrollments en
                  join raw_training.classes c on c.class_id = en.class_id
                 where en.trainee_id = t.k1 order by en.enrolled_at, en.enrollment_id limit 1),
               null, tr.person_key, null, null
        from todo t
        left join raw_training.trainees tr on tr.trainee_id = t.k1
        where t.entity_type = 'trainee'
    )
    insert into review.alert_links as l (alert_id, district_code, institution_id, org_id, person_key,
                                         exam_id, session_id, refreshed_at)
    select t.alert_id, t.district_code, r.institution_id, r.org_id, r.person_key, r.exam_id, r.session_id, now()
    from todo t left join resolved r using (alert_id)
    on conflict (alert_id) do update set
        district_code = excluded.district_code, institution_id = excluded.institution_id,
        org_id = excluded.org_id, person_key = excluded.person_key, exam_id = excluded.exam_id,
        session_id = excluded.session_id, refreshed_at = excluded.refreshed_at;
    get diagnostics n = row_count;
    if p_alert_id is not null then
        return n;
    end if;
    insert into review.link_state (id, high_water) values (true, new_hw)
        on conflict (id) do update set high_water = excluded.high_water;
    return n;
end $$;
comment on function review.refresh_alert_links(text) is 'Resolve new alerts (or the one given) to institution, evaluation org, person and exam (review.alert_links). Incremental on first_detected_at: an alert''s subjects are fixed by its (rule_code, entity_key).';

-- Who may log in, and the session epoch a request's cookie must carry: read before any district is
-- known. SECURITY DEFINER so the application's login role needs no access to review.users itself.
do $$ begin
    if exists (select from pg_proc where oid = to_regprocedure('review.login_user(text)')
               and not 'session_epoch' = any(proargnames)) then
        drop function review.login_user(text);
    end if;
end $$;
create or replace function review.login_user(p_username text)
returns table (username text, password_hash text, district_code text, active boolean, password_changed_at timestamptz,
               session_epoch bigint)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select u.username, u.password_hash, u.district_code, u.active, u.password_changed_at, u.session_epoch
    from review.users u where u.username = p_username
$$;

-- Logout: every session of the user ends (those issued in the epoch the cookie carries).
create or replace function review.end_sessions(p_username text, p_epoch bigint) returns void
language sql security definer set search_path = pg_catalog, pg_temp as $$
    update review.users set session_epoch = session_epoch + 1 where username = p_username and session_epoch = p_epoch
$$;

-- Rehash on login (argon2 parameters raised); keeps the sessions (password_changed_at unchanged).
create or replace function review.rehash_password(p_username text, p_old text, p_new text) returns void
language sql security definer set search_path = pg_catalog, pg_temp as $$
    update review.users set password_hash = p_new where username = p_username and password_hash = p_old
$$;

-- A new function is executable by PUBLIC: these are not, until supervision.access.rls grants them
-- (in the same transaction as their creation, so no other role ever holds them in between).
revoke all on function review.login_user(text), review.end_sessions(text, bigint),
    review.rehash_password(text, text, text), review.refresh_alert_links(text) from public;
