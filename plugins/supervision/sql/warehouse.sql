-- Schemas and tables written by the loaders (raw_*), the pipeline's bookkeeping (ops),
-- restricted personal data (pii) and the alert table (marts.supervision_alerts).
-- Idempotent: run by `supervision warehouse start` and at the start of every DAG run.
-- dbt owns staging, intermediate, core, rules and the other marts; the review app owns review.*.

create schema if not exists raw_training;
create schema if not exists raw_video;
create schema if not exists raw_assessment;
create schema if not exists ops;
create schema if not exists pii;
create schema if not exists marts;
create schema if not exists review;

-- ===================================================================================
-- raw_training: the latest version of every row of the training platform database.
-- Same names and types as training_platform.sql, merged on the primary key (the row with
-- the largest updated_at wins). Plain ID numbers, names and phones are NOT here (see pii).
-- _loaded_at: when this version was written; _run_id: the Airflow run that wrote it.
-- ===================================================================================
create table if not exists raw_training.occupations (
    occupation_code text primary key, name text not null, category text not null,
    is_urgent boolean not null, updated_at timestamptz not null,
    _loaded_at timestamptz not null default now(), _run_id text);

create table if not exists raw_training.institutions (
    institution_id text primary key, name text not null, credit_code text not null, kind text not null,
    district_code text not null, license_valid_from date not null, license_valid_to date not null,
    updated_at timestamptz not null, _loaded_at timestamptz not null default now(), _run_id text);

create table if not exists raw_training.institution_occupations (
    institution_id text not null, occupation_code text not null, approved_from date not null,
    approved_to date not null, updated_at timestamptz not null,
    _loaded_at timestamptz not null default now(), _run_id text,
    primary key (institution_id, occupation_code, approved_from));

create table if not exists raw_training.sites (
    site_id text primary key, institution_id text not null, district_code text not null,
    address text not null, registered boolean not null, updated_at timestamptz not null,
    _loaded_at timestamptz not null default now(), _run_id text);

create table if not exists raw_training.cameras (
    camera_id text primary key, site_id text not null, installed_on date not null,
    updated_at timestamptz not null, _loaded_at timestamptz not null default now(), _run_id text);

create table if not exists raw_training.classes (
    class_id text primary key, institution_id text not null, occupation_code text not null,
    skill_level smallint not null, programme text not null, subsidised boolean not null,
    planned_hours numeric(6,1) not null, start_date date not null, end_date date not null,
    status text not null, updated_at timestamptz not null,
    _loaded_at timestamptz not null default now(), _run_id text);

create table if not exists raw_training.sessions (
    session_id text primary key, class_id text not null, site_id text not null,
    starts_at timestamptz not null, ends_at timestamptz not null, delivery text not null,
    status text not null, updated_at timestamptz not null,
    _loaded_at timestamptz not null default now(), _run_id text);

-- trainees: id_number is replaced by its keyed pseudonym and masked form, plus the
-- GB 11643-1999 checks computed at load time (the plain number lives in pii.trainees).
create table if not exists raw_training.trainees (
    trainee_id text primary key,
    person_key text not null,          -- HMAC-SHA256(SUPERVISION_PII_KEY, id_number), hex
    id_masked text not null,           -- first 6 + '********' + last 4 characters
    id_format_ok boolean not null,     -- 17 digits and a check character (digit or upper-case X)
    id_birth_date date,                -- characters 7-14 as a date; null when not a real date
    id_check_ok boolean not null,      -- check character right under GB 11643-1999 (false if format wrong)
    gender text not null, birth_date date not null, has_phone boolean not null,
    updated_at timestamptz not null, _loaded_at timestamptz not null default now(), _run_id text);

create table if not exists raw_training.enrollments (
    enrollment_id text primary key, class_id text not null, trainee_id text not null,
    enrolled_at timestamptz not null, status text not null, completed_on date,
    updated_at timestamptz not null, _loaded_at timestamptz not null default now(), _run_id text);

create table if not exists raw_training.attendance (
    attendance_id bigint primary key, session_id text not null, trainee_id text not null,
    event text not null, method text not null, device_id text not null,
    captured_at timestamptz not null, face_score numeric(4,3), updated_at timestamptz not null,
    _loaded_at timestamptz not null default now(), _run_id text);
create index if not exists attendance_session_idx on raw_training.attendance (session_id);
create index if not exists attendance_trainee_idx on raw_training.attendance (trainee_id);

create table if not exists raw_training.subsidy_claims (
    claim_id text primary key, enrollment_id text not null, trainee_id text not null,
    certificate_no text, amount_cny numeric(10,2) not null, claimed_at timestamptz not null,
    status text not null, updated_at timestamptz not null,
    _loaded_at timestamptz not null default now(), _run_id text);

-- For dbt's incremental models (dbt_project/macros/incremental_*.sql): rows (re)loaded since a
-- model's last build are found by _loaded_at, and the entities they touch through these keys,
-- so a day's run reads what changed, not the history. (Same names as the GX flags' indexes of
-- the ops section where both need one: created once.)
create index if not exists attendance_loaded_idx on raw_training.attendance (_loaded_at);
create index if not exists sessions_loaded_idx on raw_training.sessions (_loaded_at);
create index if not exists sessions_starts_at_idx on raw_training.sessions (starts_at);
create index if not exists sessions_class_idx on raw_training.sessions (class_id);
create index if not exists sessions_site_idx on raw_training.sessions (site_id);
create index if not exists classes_loaded_idx on raw_training.classes (_loaded_at);
create index if not exists classes_institution_idx on raw_training.classes (institution_id);
create index if not exists enrollments_loaded_idx on raw_training.enrollments (_loaded_at);
create index if not exists enrollments_class_idx on raw_training.enrollments (class_id);
create index if not exists trainees_loaded_idx on raw_training.trainees (_loaded_at);
create index if not exists subsidy_claims_loaded_idx on raw_training.subsidy_claims (_loaded_at);
create index if not exists subsidy_claims_enrollment_idx on raw_training.subsidy_claims (enrollment_id);

-- History where supervision needs it: every version of institutions, approved scopes and sites
-- as pulled (valid_from = the version's updated_at; the dbt snapshot/dim derives valid_to).
create table if not exists raw_training.institutions_history (
    like raw_training.institutions, primary key (institution_id, updated_at));
create table if not exists raw_training.institution_occupations_history (
    like raw_training.institution_occupations,
    primary key (institution_id, occupation_code, approved_from, updated_at));
create table if not exists raw_training.sites_history (
    like raw_training.sites, primary key (site_id, updated_at));

-- ===================================================================================
-- raw_video: well-formed events of the three known types, each event_id once per local day.
--
-- Partitioned by RANGE (local_date), one partition per day, raw_video.events_pYYYYMMDD, made on
-- demand by the loader (supervision.ingest.video, under an advisory lock), so that loading a day
-- costs the same on day 300 as on day 1: its indexes are that day's, not the whole history's.
-- Primary key (event_id, local_date): the contract puts every delivery of an event in the same
-- date= folder (the local date of the events), so duplicates are found within the day's partition.
-- event_id leads: a partition's key index is built by sorting uuids, and uuids sort on abbreviated
-- keys (measured ~2x faster than (local_date, event_id), whose first column is one value per
-- partition); a lookup by event_id alone can use it too. A warehouse bootstrapped with
-- (local_date, event_id) keeps it: the loader builds each new partition's key like the parent's.
-- (camera_id, ts) is indexed (dbt looks events up by camera and time); so is _loaded_at: the video
-- facts' incremental window asks for the newest stamp of a few days' partitions and for the
-- cameras with events loaded since their last build (one index probe each instead of a scan of
-- the days, 1.1-1.7 s each at city scale, four models a run); the face events have a (camera_id,
-- ts) index of their own: the face matches read a session camera's faces (about 7 % of its
-- events) without fetching the rest, 3.5x faster over a week at city scale; local_date needs no
-- index (partition pruning). events_default catches rows of a day that has no partition yet (direct
-- writers, a loader role without CREATE); the loader moves them when it makes that day's partition.
-- Readers (dbt, GX, the review app) use the parent table only.
--
-- A warehouse bootstrapped before partitioning keeps its plain raw_video.events (primary key
-- event_id, three indexes): nothing below changes it and the loader still loads it. A fresh
-- warehouse gets the partitioned table; to migrate an old one, rename it, bootstrap, and
-- insert ... select from the old table.
-- ===================================================================================
create table if not exists raw_video.events (
    event_id uuid not null,
    camera_id text not null,
    ts timestamptz not null,
    type text not null check (type in ('status', 'headcount', 'face')),
    state text check (state in ('online', 'offline', 'occluded', 'tampered')),  -- status only
    count integer check (count >= 0),                                           -- headcount only
    trainee_id text,                                                            -- face only
    score numeric check (score between 0 and 1),                                -- face only
    local_date date not null,          -- the date= folder it came from
    file_id bigint not null,           -- ops.file_manifest
    line_no integer not null,
    _loaded_at timestamptz not null default now(),
    primary key (event_id, local_date))
    partition by range (local_date);
create index if not exists events_camera_ts_idx on raw_video.events (camera_id, ts);
create index if not exists events_loaded_at_idx on raw_video.events (_loaded_at);
create index if not exists events_face_camera_ts_idx on raw_video.events (camera_id, ts) where type = 'face';
do $$
begin
    if (select relkind from pg_class where oid = 'raw_video.events'::regclass) = 'p' then
        create table if not exists raw_video.events_default partition of raw_video.events default;
    else  -- an older, unpartitioned table: keep its indexes as they were
        create index if not exists events_local_date_idx on raw_video.events (local_date);
    end if;
end $$;

-- ===================================================================================
-- raw_assessment: the latest delivery of every row (by key), delivery order =
-- (date= folder, file load order, line). Chinese headers mapped to the contract's field names.
-- ===================================================================================
create table if not exists raw_assessment.evaluation_orgs (
    org_id text primary key, name text not null, kind text not null, district_code text not null,
    occupation_codes text[] not null, registered_on date, valid_to date,
    delivery_date date not null, file_id bigint not null, line_no integer not null,
    _loaded_at timestamptz not null default now());

create table if not exists raw_assessment.exam_sessions (
    exam_id text primary key, org_id text not null, occupation_code text not null,
    skill_level smallint, starts_at timestamptz, ends_at timestamptz,
    assessor_ids text[] not null, registered integer,
    delivery_date date not null, file_id bigint not null, line_no integer not null,
    _loaded_at timestamptz not null default now());

create table if not exists raw_assessment.exam_results (
    result_id text primary key, exam_id text not null,
    person_key text not null, id_masked text not null,
    id_format_ok boolean not null, id_birth_date date, id_check_ok boolean not null,
    theory_score numeric, practical_score numeric,   -- null when missing; range NOT enforced (a rule checks it)
    passed text not null,                            -- as delivered: '合格' | '不合格'
    recorded_at timestamptz,
    delivery_date date not null, file_id bigint not null, line_no integer not null,
    _loaded_at timestamptz not null default now());
create index if not exists exam_results_exam_idx on raw_assessment.exam_results (exam_id);

create table if not exists raw_assessment.certificates (
    certificate_no text primary key, result_id text,   -- null when empty
    person_key text not null, id_masked text not null,
    occupation_code text not null, skill_level smallint, issued_on date, org_id text not null,
    delivery_date date not null, file_id bigint not null, line_no integer not null,
    _loaded_at timestamptz not null default now());

-- ===================================================================================
-- pii: restricted. Plain ID numbers, names and phones, keyed like raw. No analyst or BI role
-- is ever granted this schema.
-- ===================================================================================
create table if not exists pii.trainees (
    trainee_id text primary key, id_number text not null, name text not null, phone text,
    updated_at timestamptz not null);
create table if not exists pii.exam_candidates (
    result_id text primary key, id_number text not null, name text not null);
create table if not exists pii.certificate_holders (
    certificate_no text primary key, id_number text not null, name text not null);

-- A quarantined record that holds personal data (a trainee row, an exam result or certificate
-- line) is kept here as received; ops.quarantine gets a redacted copy (masked ID, no name/phone).
create table if not exists pii.quarantine_raw (
    source text not null, object text not null, locator text not null, raw_text text not null,
    primary key (source, object, locator));

-- ===================================================================================
-- ops: the pipeline's own bookkeeping.
-- ===================================================================================
create table if not exists ops.file_manifest (
    file_id bigserial primary key,
    source text not null,              -- 'video' | 'assessment'
    path text not null unique,         -- relative to the landing folder
    local_date date not null,          -- from date=YYYY-MM-DD
    size_bytes bigint not null,
    sha256 text not null,
    status text not null,              -- 'loaded' | 'failed'
    received integer, loaded integer, duplicates integer, quarantined integer,
    message text,
    run_id text,
    loaded_at timestamptz not null default now());

create table if not exists ops.watermarks (
    source_table text primary key,     -- e.g. 'training.sessions'
    high_water timestamptz not null,   -- largest updated_at seen
    updated_at timestamptz not null default now());

-- Every record that could not be loaded, with why and where it came from.
create table if not exists ops.quarantine (
    quarantine_id bigserial primary key,
    source text not null,              -- 'training' | 'video' | 'assessment'
    object text not null,              -- file path (landing-relative) or table name
    locator text not null,             -- line number, or the row's key
    reason text not null,              -- short machine-readable reason, e.g. 'not_json', 'enum:status'
    detail text,                       -- human-readable detail
    raw_text text,                     -- the record as received (restricted: may hold personal data)
    run_id text,
    quarantined_at timestamptz not null default now(),
    unique (source, object, locator, reason));

-- One row per file or table pull: what arrived and what became of it.
create table if not exists ops.load_audit (
    audit_id bigserial primary key,
    run_id text,
    source text not null,
    object text not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    received bigint not null default 0,
    loaded bigint not null default 0,
    duplicates bigint not null default 0,
    quarantined bigint not null default 0,
    status text not null,              -- 'ok' | 'failed' | 'skipped'
    message text);

-- Blank lines skipped, so that received = loaded + duplicates + quarantined + skipped for every
-- file and pull (columns a warehouse bootstrapped without them gains here). Checked in the catalogue
-- first: ALTER TABLE ... ADD COLUMN IF NOT EXISTS takes the table's strongest lock even when the
-- column exists, and a bootstrap beside a loader writing these tables then deadlocks with it.
do $$
begin
    if not exists (select from pg_attribute where attrelid = 'ops.load_audit'::regclass
                   and attname = 'skipped' and not attisdropped) then
        alter table ops.load_audit add column skipped bigint not null default 0;
    end if;
    if not exists (select from pg_attribute where attrelid = 'ops.file_manifest'::regclass
                   and attname = 'skipped' and not attisdropped) then
        alter table ops.file_manifest add column skipped integer;
    end if;
end $$;

-- The event ids (16 bytes each, in parts of at most 1 M) of each video file staged into a bulk
-- day's load table, written by the loader in the file's transaction; the day's attach reads them
-- to find repeated ids (instead of aggregating the day's rows on the server: measured 0.2 s per
-- 667 k events) and deletes them. Loader state only: nothing else reads it. Unlogged, stored
-- uncompressed (random ids do not compress): after a crash the server empties it, and an attach
-- that finds a staged file without its ids reads them from the load table instead.
create unlogged table if not exists ops.video_staged_ids (
    file_id bigint not null,
    part integer not null,
    event_ids bytea not null,
    primary key (file_id, part));
do $$
begin  -- PostgreSQL 15 has no STORAGE in CREATE TABLE; altered once, not locked by every bootstrap
    if (select attstorage from pg_attribute
        where attrelid = 'ops.video_staged_ids'::regclass and attname = 'event_ids') <> 'e' then
        alter table ops.video_staged_ids alter column event_ids set storage external;
    end if;
end $$;

-- Findings of the record-level rules checked by Great Expectations, for the latest run
-- (replaced whole by each validation); same shape as dbt's rule findings.
create table if not exists ops.gx_rule_findings (
    rule_code text not null,
    entity_type text not null,
    entity_key text not null,
    district_code text not null,
    occurred_on date not null,
    evidence jsonb not null,
    run_id text,
    found_at timestamptz not null default now(),
    primary key (rule_code, entity_key));

-- One row per record-flags run (supervision.quality.flags): which records it re-checked. An
-- incremental run re-checks only records whose inputs were loaded (_loaded_at) since the last
-- run with the same rule definitions; a first run, a forced one or changed rules check all.
create table if not exists ops.gx_flag_runs (
    flag_run_id bigserial primary key,
    run_id text,
    mode text not null,                -- 'full' | 'incremental'
    since timestamptz,                 -- incremental: inputs loaded at or after this were re-checked
    snapshot_at timestamptz not null,  -- the next incremental run starts from here (minus an overlap)
    definition_hash text not null,     -- sha256 of the rendered suites (rules and thresholds)
    checked jsonb not null,            -- per suite: records re-checked, findings removed / inserted
    finished_at timestamptz not null default now());
-- What an incremental flags run looks up: raw rows loaded since the last run, and the records
-- that depend on them (GX-owned indexes on raw tables; the loaders never read them).
create index if not exists attendance_loaded_idx on raw_training.attendance (_loaded_at);
create index if not exists sessions_loaded_idx on raw_training.sessions (_loaded_at);
create index if not exists sessions_class_idx on raw_training.sessions (class_id);
create index if not exists classes_loaded_idx on raw_training.classes (_loaded_at);
create index if not exists trainees_loaded_idx on raw_training.trainees (_loaded_at);
create index if not exists enrollments_loaded_idx on raw_training.enrollments (_loaded_at);
create index if not exists enrollments_trainee_idx on raw_training.enrollments (trainee_id);
create index if not exists enrollments_class_idx on raw_training.enrollments (class_id);
create index if not exists exam_results_loaded_idx on raw_assessment.exam_results (_loaded_at);
create index if not exists exam_sessions_loaded_idx on raw_assessment.exam_sessions (_loaded_at);
-- the certificates change source of the incremental dbt models reads its newest _loaded_at (decision 0042)
create index if not exists certificates_loaded_idx on raw_assessment.certificates (_loaded_at);
create index if not exists trainees_id_birth_idx on raw_training.trainees (id_birth_date);
create index if not exists exam_results_id_birth_idx on raw_assessment.exam_results (id_birth_date);
-- What the GX gates look up: one day's rows of a table (the day's batch, and the volume of the same
-- weekday in earlier weeks), by the very expression of expectations/gates.py's day_expr: without
-- these, every gate expectation on a day scans the table's whole history.
create index if not exists attendance_updated_day_idx on raw_training.attendance
    (((updated_at at time zone 'Asia/Shanghai')::date));
create index if not exists sessions_updated_day_idx on raw_training.sessions
    (((updated_at at time zone 'Asia/Shanghai')::date));
create index if not exists trainees_updated_day_idx on raw_training.trainees
    (((updated_at at time zone 'Asia/Shanghai')::date));
create index if not exists enrollments_updated_day_idx on raw_training.enrollments
    (((updated_at at time zone 'Asia/Shanghai')::date));
create index if not exists classes_updated_day_idx on raw_training.classes
    (((updated_at at time zone 'Asia/Shanghai')::date));
create index if not exists subsidy_claims_updated_day_idx on raw_training.subsidy_claims
    (((updated_at at time zone 'Asia/Shanghai')::date));
create index if not exists exam_results_delivery_idx on raw_assessment.exam_results (delivery_date);
create index if not exists exam_sessions_delivery_idx on raw_assessment.exam_sessions (delivery_date);
create index if not exists certificates_delivery_idx on raw_assessment.certificates (delivery_date);

-- Outcome of every GX validation (gates and record-level suites).
create table if not exists ops.gx_validation_results (
    validation_id bigserial primary key,
    run_id text,
    suite text not null,
    asset text not null,
    kind text not null,                -- 'gate' | 'flags'
    success boolean not null,
    evaluated integer not null,
    failed integer not null,
    summary jsonb not null,
    data_docs_path text,
    validated_at timestamptz not null default now());

-- Every dbt node's result of every marts build (supervision.dbt_daily): the per-model status.
create table if not exists ops.dbt_node_results (
    run_id text not null,
    business_day date,
    part text not null,                -- 'models' | 'alert_marts'
    unique_id text not null,
    resource_type text not null,
    status text not null,
    seconds numeric not null,
    rows_affected bigint,
    message text,
    recorded_at timestamptz not null default now(),
    primary key (run_id, part, unique_id));
create index if not exists dbt_node_results_day_idx on ops.dbt_node_results (business_day);

-- The code each dbt part was last fully built with (supervision.dbt_daily): a daily build skips
-- views, seeds and unit tests while the fingerprint holds and the views it made exist.
create table if not exists ops.dbt_deployment (
    part text primary key,
    fingerprint text not null,
    views text[] not null default '{}',
    run_id text,
    built_at timestamptz not null default now());

-- How far the daily data tests of a pulled raw table have passed (dbt_project/macros/
-- data_tests_scope.sql): the newest _loaded_at when every `__latest_loads__` test of the table ran
-- and passed in one dbt invocation (its on-run-end hook). The next day's tests read every pull after
-- it, so the pull of a day whose marts stopped before its tests is read the day after.
create table if not exists ops.data_tests_loads_tested (
    raw_table text primary key,          -- schema.table
    tested_through timestamptz not null,
    recorded_at timestamptz not null default now());

-- ===================================================================================
-- marts.supervision_alerts: the contract's alert table. Written by alert upkeep
-- (supervision.alerts.upkeep) only; `status` is written by the review application only.
-- ===================================================================================
create table if not exists marts.supervision_alerts (
    alert_id text primary key,
    rule_code text not null,
    severity text not null check (severity in ('high', 'medium', 'low')),
    entity_type text not null,
    entity_key text not null,
    district_code text not null,
    occurred_on date not null,
    evidence jsonb not null,
    first_detected_at timestamptz not null,
    last_detected_at timestamptz not null,
    is_active boolean not null default true,
    status text not null default 'open' check (status in ('open', 'confirmed', 'dismissed', 'resolved')),
    unique (rule_code, entity_key));
create index if not exists supervision_alerts_district_idx on marts.supervision_alerts (district_code, status);
create index if not exists supervision_alerts_rule_idx on marts.supervision_alerts (rule_code, occurred_on);
create index if not exists supervision_alerts_occurred_idx on marts.supervision_alerts (occurred_on);

comment on table marts.supervision_alerts is 'One row per supervision finding (rule_code, entity_key): what a rule of RULES.md flagged, where, and its review state.';
comment on column marts.supervision_alerts.alert_id is 'Stable id: the first 20 hex characters of sha256(rule_code || ''|'' || entity_key).';
comment on column marts.supervision_alerts.rule_code is 'The supervision rule that fired, e.g. CAMERA_DOWN.';
comment on column marts.supervision_alerts.severity is 'high | medium | low, fixed per rule.';
comment on column marts.supervision_alerts.entity_type is 'What the alert is about: session, session_trainee, trainee_sessions, attendance, claim, class, enrollment, certificate, exam, result, assessor_exams or trainee.';
comment on column marts.supervision_alerts.entity_key is 'Key of the entity, in the contract''s format (parts joined by |).';
comment on column marts.supervision_alerts.district_code is 'District bureau that sees the alert (6-digit code; 310000 = the city).';
comment on column marts.supervision_alerts.occurred_on is 'Local (Asia/Shanghai) date of the event the alert is about.';
comment on column marts.supervision_alerts.evidence is 'The figures the rule compared, as JSON.';
comment on column marts.supervision_alerts.first_detected_at is 'When the first pipeline run that found it ran.';
comment on column marts.supervision_alerts.last_detected_at is 'When the latest pipeline run that found it ran.';
comment on column marts.supervision_alerts.is_active is 'False once a later run no longer finds it (the source was corrected); the row stays.';
comment on column marts.supervision_alerts.status is 'Review state set by supervision staff: open | confirmed | dismissed | resolved. Never reset by a pipeline run.';
-- an index of an earlier int_risk_headcount_fingerprints (decision 0052 replaced it by the partial
-- index on fingerprint that the model's post-hook builds); dropped once here, not on every build
drop index if exists intermediate.int_risk_headcount_fingerprints_match_idx;
-- the session_id indexes of fct_session_checkins and fct_session_face_matches before their post-hooks
-- built (session_id, trainee_id) ones carrying what FACE_NOT_SEEN reads (decision 0056); dropped once here
drop index if exists core.fct_session_checkins_session_idx;
drop index if exists core.fct_session_face_matches_session_idx;
