-- A small hand-made raw dataset (as the loaders would write it) for tests/dbt: a few institutions,
-- sites, cameras, sessions, video events, attendance, claims and assessment rows, each chosen so
-- that a rule fires or just does not. Times are local (+08).

insert into raw_training.occupations (occupation_code, name, category, is_urgent, updated_at) values
  ('O1', '養老護理員', 'life_service', true, '2024-01-01'),
  ('O2', '電工', 'manufacturing', false, '2024-01-01');

insert into raw_training.institutions (institution_id, name, credit_code, kind, district_code, license_valid_from, license_valid_to, updated_at) values
  ('I1', 'Institution one', '91310000AAAAAAAA1X', 'private', '310104', '2023-01-01', '2025-12-31', '2024-01-01'),
  ('I2', 'Institution two', '91310000AAAAAAAA2X', 'private', '310115', '2023-01-01', '2025-12-31', '2024-01-01');
insert into raw_training.institutions_history select * from raw_training.institutions;

insert into raw_training.institution_occupations (institution_id, occupation_code, approved_from, approved_to, updated_at) values
  ('I1', 'O1', '2024-01-01', '2024-12-31', '2024-01-01'),
  ('I2', 'O2', '2024-01-01', '2024-12-31', '2024-01-01');

insert into raw_training.sites (site_id, institution_id, district_code, address, registered, updated_at) values
  ('X1', 'I1', '310104', 'addr 1', true, '2024-01-01'),
  ('X2', 'I2', '310115', 'addr 2', true, '2024-01-01'),
  ('X3', 'I2', '310115', 'addr 3', false, '2024-01-01');

insert into raw_training.cameras (camera_id, site_id, installed_on, updated_at) values
  ('C1', 'X1', '2023-06-01', '2024-01-01'),
  ('C2', 'X2', '2023-06-01', '2024-01-01');

insert into raw_training.classes (class_id, institution_id, occupation_code, skill_level, programme, subsidised, planned_hours, start_date, end_date, status, updated_at) values
  ('K1', 'I1', 'O1', 4, 'standard', true, 4.0, '2024-03-01', '2024-03-02', 'finished', '2024-01-01'),
  ('K2', 'I2', 'O2', 3, 'new_skill', true, 2.0, '2024-03-01', '2024-03-01', 'finished', '2024-01-01'),
  ('K3', 'I2', 'O2', 4, 'apprenticeship', false, 2.0, '2024-03-05', '2024-03-05', 'finished', '2024-01-01'),
  ('K4', 'I1', 'O2', 4, 'standard', false, 2.0, '2024-04-01', '2024-04-30', 'planned', '2024-01-01');

insert into raw_training.sessions (session_id, class_id, site_id, starts_at, ends_at, delivery, status, updated_at) values
  ('S1', 'K1', 'X1', '2024-03-01 09:00+08', '2024-03-01 11:00+08', 'onsite', 'held', '2024-01-01'),
  ('S2', 'K1', 'X1', '2024-03-02 09:00+08', '2024-03-02 11:00+08', 'onsite', 'held', '2024-01-01'),
  ('S3', 'K2', 'X2', '2024-03-01 14:00+08', '2024-03-01 16:00+08', 'onsite', 'held', '2024-01-01'),
  ('S4', 'K3', 'X3', '2024-03-05 09:00+08', '2024-03-05 11:00+08', 'onsite', 'held', '2024-01-01');

-- C1 sends online + a headcount every minute through S1 (fully covered) and only through the
-- first hour of S2 (50% uncovered); C2 is silent during S3 (late files arrive in the test).
insert into raw_video.events (event_id, camera_id, ts, type, state, count, trainee_id, score, local_date, file_id, line_no)
select gen_random_uuid(), 'C1', t, case when n = 0 then 'status' else 'headcount' end,
       case when n = 0 then 'online' end, case when n > 0 then 2 end, null, null::numeric, (t at time zone 'Asia/Shanghai')::date, 1, n
from (select generate_series(0, 125) as n, '2024-03-01 08:55+08'::timestamptz + generate_series(0, 125) * interval '1 minute' as t) as s1
union all
select gen_random_uuid(), 'C1', t, case when n = 0 then 'status' else 'headcount' end,
       case when n = 0 then 'online' end, case when n > 0 then 2 end, null, null::numeric, (t at time zone 'Asia/Shanghai')::date, 2, n
from (select generate_series(0, 65) as n, '2024-03-02 08:55+08'::timestamptz + generate_series(0, 65) * interval '1 minute' as t) as s2;
insert into raw_video.events (event_id, camera_id, ts, type, state, count, trainee_id, score, local_date, file_id, line_no) values
  (gen_random_uuid(), 'C2', '2024-03-01 13:50+08', 'status', 'online', null, null, null, '2024-03-01', 3, 1);

insert into raw_training.trainees (trainee_id, person_key, id_masked, id_format_ok, id_birth_date, id_check_ok, gender, birth_date, has_phone, updated_at) values
  ('T1', 'P1', '310101********0011', true, '1990-01-01', true, 'M', '1990-01-01', true, '2024-01-01'),
  ('T2', 'P2', '310101********0022', true, '1991-01-01', true, 'F', '1991-01-01', true, '2024-01-01'),
  ('T3', 'P3', '310101********0033', true, '1992-01-01', true, 'F', '1992-01-01', true, '2024-01-01'),
  ('T4', 'P4', '310101********0044', true, '1993-01-01', true, 'M', '1993-01-01', true, '2024-01-01'),
  ('T6', 'P1', '310101********0011', true, '1990-01-01', true, 'M', '1990-01-01', false, '2024-01-01');

insert into raw_training.enrollments (enrollment_id, class_id, trainee_id, enrolled_at, status, completed_on, updated_at) values
  ('E1', 'K1', 'T1', '2024-02-01 10:00+08', 'completed', '2024-03-02', '2024-01-01'),
  ('E2', 'K1', 'T2', '2024-02-01 10:00+08', 'completed', '2024-03-02', '2024-01-01'),
  ('E3', 'K2', 'T3', '2024-02-01 10:00+08', 'completed', '2024-04-10', '2024-01-01'),
  ('E4', 'K3', 'T4', '2024-02-01 10:00+08', 'completed', '2024-05-01', '2024-01-01'),
  ('E5', 'K3', 'T6', '2024-02-01 10:00+08', 'completed', '2024-06-01', '2024-01-01'),
  ('E6', 'K3', 'T1', '2024-02-01 10:00+08', 'completed', '2024-07-01', '2024-01-01'),
  ('E7', 'K1', 'T4', '2024-02-01 10:00+08', 'active', null, '2024-01-01');

insert into raw_training.attendance (attendance_id, session_id, trainee_id, event, method, device_id, captured_at, face_score, updated_at) values
  (1, 'S1', 'T1', 'check_in', 'face', 'D1', '2024-03-01 09:00+08', 0.9, '2024-01-01'),
  (2, 'S1', 'T1', 'check_out', 'face', 'D1', '2024-03-01 11:00+08', 0.9, '2024-01-01'),
  (3, 'S1', 'T2', 'check_in', 'face', 'D1', '2024-03-01 09:00+08', 0.9, '2024-01-01'),
  (4, 'S1', 'T2', 'check_out', 'face', 'D1', '2024-03-01 11:00+08', 0.9, '2024-01-01'),
  (5, 'S2', 'T1', 'check_in', 'face', 'D1', '2024-03-02 09:00+08', 0.9, '2024-01-01'),
  (6, 'S2', 'T1', 'check_out', 'face', 'D1', '2024-03-02 11:00+08', 0.9, '2024-01-01'),
  (7, 'S2', 'T2', 'check_in', 'face', 'D1', '2024-03-02 09:00+08', 0.9, '2024-01-01');

insert into raw_training.subsidy_claims (claim_id, enrollment_id, trainee_id, certificate_no, amount_cny, claimed_at, status, updated_at) values
  ('CL1', 'E1', 'T1', 'Z1', 1000, '2024-03-05 10:00+08', 'submitted', '2024-01-01'),
  ('CL2', 'E2', 'T2', null, 1000, '2024-03-05 10:00+08', 'submitted', '2024-01-01');

insert into raw_assessment.evaluation_orgs (org_id, name, kind, district_code, occupation_codes, registered_on, valid_to, delivery_date, file_id, line_no) values
  ('G1', 'Org one', '用人單位', '310104', '{O1,O2}', '2024-02-10', '2027-01-01', '2024-03-01', 10, 1),
  ('G2', 'Org two', '院校', '310115', '{O2}', '2024-03-15', '2027-01-01', '2024-03-01', 10, 2),
  ('G3', 'Org three', '社會評價組織', '310104', '{O1}', '2023-05-01', '2027-01-01', '2024-03-01', 10, 3);

insert into raw_assessment.exam_sessions (exam_id, org_id, occupation_code, skill_level, starts_at, ends_at, assessor_ids, registered, delivery_date, file_id, line_no) values
  ('EX1', 'G1', 'O1', 4, '2024-03-03 09:00+08', '2024-03-03 11:00+08', '{A1,A2}', 2, '2024-03-03', 11, 1),
  ('EX2', 'G1', 'O2', 3, '2024-03-03 10:00+08', '2024-03-03 12:00+08', '{A2}', 1, '2024-03-03', 11, 2);

insert into raw_assessment.exam_results (result_id, exam_id, person_key, id_masked, id_format_ok, id_birth_date, id_check_ok, theory_score, practical_score, passed, recorded_at, delivery_date, file_id, line_no) values
  ('R1', 'EX1', 'P1', '310101********0011', true, '1990-01-01', true, 80, 80, '合格', '2024-03-03 12:00+08', '2024-03-03', 12, 1),
  ('R2', 'EX1', 'P2', '310101********0022', true, '1991-01-01', true, 75, 70.0, '合格', '2024-03-03 12:00+08', '2024-03-03', 12, 2),
  ('R3', 'EX2', 'P3', '310101********0033', true, '1992-01-01', true, 90, 90, '合格', '2024-03-03 12:00+08', '2024-03-03', 12, 3);

insert into raw_assessment.certificates (certificate_no, result_id, person_key, id_masked, occupation_code, skill_level, issued_on, org_id, delivery_date, file_id, line_no) values
  ('Z1', 'R1', 'P1', '310101********0011', 'O1', 4, '2024-03-04', 'G1', '2024-03-04', 13, 1),
  ('Z2', 'R3', 'P3', '310101********0033', 'O2', 3, '2024-03-10', 'G1', '2024-03-10', 13, 2),
  ('Z3', null, 'P4', '310101********0044', 'O2', 2, '2024-04-01', 'G2', '2024-04-01', 13, 3);
