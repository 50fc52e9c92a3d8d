"""Incremental rules equal a full rebuild, day after day, on real PostgreSQL.

Two warehouses get the same raw rows, one day at a time: new sessions, check-ins and video; late
video files (1-2 days late, within late_arrival_days); corrections days later (an attendance row
moved to another session, a session moved to another class and later cancelled, a trainee's
person corrected, an enrollment moved to another trainee, an institution's district changed, a
site registered); a late exam and claim.
The first warehouse runs the daily incremental build; the second is rebuilt from scratch
(--full-refresh) on the days of corrections and late files. Their rule findings (every column)
must be identical on those days, and on the last day their marts and the incremental facts
too."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from supervision.dbt_daily import daily_selection
from supervision.dbt_runner import run_dbt
from supervision.warehouse import bootstrap
from tests.conftest import dbt_target, scratch_database

pytestmark = pytest.mark.slow  # not in `make test-fast` (real dbt builds, services or subprocesses)

HERE = Path(__file__).resolve().parent

# (the day, raw rows delivered before that day's run); the base dataset comes first. The runs take
# their day as the marts DAG does without a run_date: the newest local_date of the video events
# (no --vars: dbt then keeps its partial parse from run to run, which keeps this test fast).
DAYS: list[tuple[str, str]] = [
    ("2024-03-02", ""),
    ("2024-03-03", """
        -- a late video file for 2024-03-01: C2 heartbeats through S3 (CAMERA_DOWN S3 goes)
        insert into raw_video.events (event_id, camera_id, ts, type, state, local_date, file_id, line_no)
        select gen_random_uuid(), 'C2', '2024-03-01 13:55+08'::timestamptz + n * interval '5 minutes', 'status',
               'online', '2024-03-01', 20, n
        from generate_series(0, 25) n;
        -- S5 (class of another institution than its site) and S6 overlap; T1 and T2 check in to both
        insert into raw_training.sessions (session_id, class_id, site_id, starts_at, ends_at, delivery, status, updated_at)
        values ('S5', 'K3', 'X1', '2024-03-03 09:00+08', '2024-03-03 11:00+08', 'onsite', 'held', now()),
               ('S6', 'K2', 'X2', '2024-03-03 10:00+08', '2024-03-03 12:00+08', 'onsite', 'held', now());
        insert into raw_training.attendance (attendance_id, session_id, trainee_id, event, method, device_id,
            captured_at, face_score, updated_at) values
          (101, 'S5', 'T1', 'check_in', 'face', 'D5', '2024-03-03 09:00+08', 0.9, now()),
          (102, 'S5', 'T1', 'check_out', 'face', 'D5', '2024-03-03 11:00+08', 0.9, now()),
          (103, 'S5', 'T2', 'check_in', 'face', 'D5', '2024-03-03 09:01+08', 0.9, now()),
          (111, 'S6', 'T1', 'check_in', 'face', 'D9', '2024-03-03 10:00:00+08', 0.9, now()),
          (112, 'S6', 'T2', 'check_in', 'face', 'D9', '2024-03-03 10:00:05+08', 0.9, now()),
          (113, 'S6', 'T3', 'check_in', 'face', 'D9', '2024-03-03 10:00:10+08', 0.9, now()),
          (114, 'S6', 'T4', 'check_in', 'face', 'D9', '2024-03-03 10:00:15+08', 0.9, now()),
          (115, 'S6', 'T6', 'check_in', 'face', 'D9', '2024-03-03 10:00:20+08', 0.9, now()),
          (116, 'S6', 'T3', 'check_in', 'face', 'D9', '2024-03-03 10:00:25+08', 0.9, now());
        -- C1 during S5: online, one face event (T2 seen, T1 not)
        insert into raw_video.events (event_id, camera_id, ts, type, state, count, trainee_id, score, local_date,
            file_id, line_no) values
          (gen_random_uuid(), 'C1', '2024-03-03 08:58+08', 'status', 'online', null, null, null, '2024-03-03', 21, 1),
          (gen_random_uuid(), 'C1', '2024-03-03 09:10+08', 'face', null, null, 'T2', 0.9, '2024-03-03', 21, 2);
    """),
    ("2024-03-04", """
        -- T1's check_in in S6 corrected to S3; S2 moved from K1 to K2; T3 is another person after all
        update raw_training.attendance set session_id = 'S3', updated_at = now(), _loaded_at = now()
        where attendance_id = 111;
        update raw_training.sessions set class_id = 'K2', updated_at = now(), _loaded_at = now()
        where session_id = 'S2';
        update raw_training.trainees set person_key = 'P9', updated_at = now(), _loaded_at = now()
        where trainee_id = 'T3';
        -- a new trainee enrolled in K4
        insert into raw_training.trainees (trainee_id, person_key, id_masked, id_format_ok, id_birth_date, id_check_ok,
            gender, birth_date, has_phone, updated_at)
        values ('T7', 'P7', '310101********0077', true, '1994-01-01', true, 'F', '1994-01-01', true, now());
        insert into raw_training.enrollments (enrollment_id, class_id, trainee_id, enrolled_at, status, completed_on, updated_at)
        values ('E8', 'K4', 'T7', '2024-03-04 10:00+08', 'active', null, now());
        -- a late video file for S5 (a day late): C1 reported through the session
        insert into raw_video.events (event_id, camera_id, ts, type, state, count, trainee_id, score, local_date,
            file_id, line_no)
        select gen_random_uuid(), 'C1', '2024-03-03 09:00+08'::timestamptz + n * interval '5 minutes', 'headcount',
               null, 1, null, null, '2024-03-03', 22, n
        from generate_series(0, 24) n;
        -- a face event of S5 (T1 seen after all) in the next day's folder, within the day of slack the
        -- video facts allow between an event's folder and its instant: the new folder's events do not
        -- all come after S5's end, so S5 is recomputed (FACE_NOT_SEEN S5|T1 goes)
        insert into raw_video.events (event_id, camera_id, ts, type, state, count, trainee_id, score, local_date,
            file_id, line_no) values
          (gen_random_uuid(), 'C1', '2024-03-03 10:30+08', 'face', null, null, 'T1', 0.9, '2024-03-04', 24, 1);
    """),
    ("2024-03-20", """
        -- S5 cancelled weeks later; a claim and an exam (of 2024-03-01) arrive late
        update raw_training.sessions set status = 'cancelled', updated_at = now(), _loaded_at = now()
        where session_id = 'S5';
        insert into raw_training.subsidy_claims (claim_id, enrollment_id, trainee_id, certificate_no, amount_cny,
            claimed_at, status, updated_at)
        values ('CL3', 'E6', 'T1', null, 1000, '2024-03-05 10:00+08', 'submitted', now());
        insert into raw_assessment.exam_sessions (exam_id, org_id, occupation_code, skill_level, starts_at, ends_at,
            assessor_ids, registered, delivery_date, file_id, line_no)
        values ('EX3', 'G3', 'O1', 4, '2024-03-01 10:00+08', '2024-03-01 12:00+08', '{A3}', 1, '2024-03-05', 14, 1);
        insert into raw_assessment.exam_results (result_id, exam_id, person_key, id_masked, id_format_ok,
            id_birth_date, id_check_ok, theory_score, practical_score, passed, recorded_at, delivery_date, file_id,
            line_no)
        values ('R4', 'EX3', 'P1', '310101********0011', true, '1990-01-01', true, 70, 70, '合格',
                '2024-03-01 12:00+08', '2024-03-05', 15, 1);
        -- weeks later (outside every lookback window): an institution's district, a site's registration
        -- and a class's hours corrected
        update raw_training.institutions set district_code = '310101', updated_at = now(), _loaded_at = now()
        where institution_id = 'I2';
        update raw_training.sites set registered = true, updated_at = now(), _loaded_at = now()
        where site_id = 'X3';
        update raw_training.classes set planned_hours = 10, updated_at = now(), _loaded_at = now()
        where class_id = 'K1';
        -- T7's only enrollment (E8) corrected to T2: T7 (no other input of theirs changes) has none now
        update raw_training.enrollments set trainee_id = 'T2', updated_at = now(), _loaded_at = now()
        where enrollment_id = 'E8';
        -- today's video (the run's day is the newest local_date of the video events)
        insert into raw_video.events (event_id, camera_id, ts, type, state, local_date, file_id, line_no)
        values (gen_random_uuid(), 'C1', '2024-03-20 08:00+08', 'status', 'online', '2024-03-20', 23, 1);
    """),
]

# days compared with a full rebuild (each costs a dbt run; 2024-03-03 adds only new rows, whose
# findings are asserted below)
COMPARED_DAYS = {"2024-03-04", "2024-03-20"}
FINDINGS_SQL = ("select rule_code, entity_type, entity_key, district_code, occurred_on, evidence::text "
                "from rules.rule_findings order by rule_code, entity_key")
COMPARED_AT_END = {
    "marts.district_target_progress": "select * from marts.district_target_progress order by 1, 2, 3",
    "marts.urgent_occupation_progress": "select * from marts.urgent_occupation_progress order by 1, 2, 3",
    "intermediate.int_sessions_checked_in_by_trainee":
        "select * from intermediate.int_sessions_checked_in_by_trainee order by 1, 2, 4",
    "core.fct_session_checkins": "select session_id, trainee_id, check_in_rows, check_out_rows, first_check_in_at, "
                                 "last_check_out_at from core.fct_session_checkins order by 1, 2",
    "core.fct_session_video_coverage": "select session_id, is_held_onsite, site_cameras, minutes_total, minutes_covered, "
                                       "max_headcount, headcount_events, face_events "
                                       "from core.fct_session_video_coverage order by 1",
    "core.fct_camera_status_days": "select camera_id, local_date, last_status_at, status_events "
                                   "from core.fct_camera_status_days order by 1, 2",
    "core.fct_session_checkin_bursts": "select session_id, device_id, check_ins, largest_burst, largest_burst_started_at "
                                       "from core.fct_session_checkin_bursts order by 1, 2",
    "intermediate.int_risk_session_measures": "select * from intermediate.int_risk_session_measures order by 1, 4",
    "intermediate.int_risk_institution_measures": "select * from intermediate.int_risk_institution_measures "
                                                  "order by 1, 2, 3",
    # every column but the build stamp
    "core.fct_subsidy_claims": "select to_jsonb(t) - '_built_at' from core.fct_subsidy_claims t order by claim_id",
    "core.fct_enrollments": "select to_jsonb(t) - '_built_at' from core.fct_enrollments t order by enrollment_id",
    "core.dim_trainees": "select to_jsonb(t) - '_built_at' from core.dim_trainees t order by trainee_id",
}


BUILT_AT_SQL = "select session_id, _built_at from core.fct_session_video_coverage"


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def _exec(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def second_warehouse(pg_admin_url: str) -> Iterator[str]:
    with scratch_database(pg_admin_url) as url:
        bootstrap(url)
        yield url


def test_incremental_rules_equal_full_rebuild_day_by_day(warehouse_db: str, second_warehouse: str,
                                                        tmp_path: Path) -> None:
    incremental, rebuilt = warehouse_db, second_warehouse
    # one dbt target folder per warehouse: a partial parse survives only for the same connection
    targets = {url: dbt_target(tmp_path / name) for url, name in ((incremental, "inc"), (rebuilt, "full"))}
    base = (HERE / "raw_dataset.sql").read_text(encoding="utf-8")
    for url in (incremental, rebuilt):
        _exec(url, base)
    seen: dict[str, set[tuple[str, str]]] = {}
    built: dict[str, dict[str, object]] = {}  # run day -> session -> its coverage row's _built_at
    models_and_seeds = ["--resource-type", "model", "--resource-type", "seed"]
    select_daily, exclude_daily = daily_selection("models")
    for day, (run_date, delivered) in enumerate(DAYS):
        first, last = day == 0, day == len(DAYS) - 1
        for url in (incremental, rebuilt):
            if delivered:
                _exec(url, delivered)
        # after the first (full) build, what the marts DAG's daily build runs (supervision.dbt_daily)
        daily = (["build", *models_and_seeds, "--exclude", "tag:after_alerts"] if first
                 else ["run", "--select", select_daily, "--exclude", exclude_daily])
        run_dbt([*daily, *targets[incremental]], incremental)
        built[run_date] = dict(_rows(incremental, BUILT_AT_SQL))
        findings = _rows(incremental, FINDINGS_SQL)
        seen[run_date] = {(code, key) for code, _, key, *_ in findings}
        if first or run_date not in COMPARED_DAYS:
            continue
        scratch = (["build", *models_and_seeds, "--exclude", "tag:after_alerts"] if last
                   else ["run", "--select", "+rule_findings"])
        run_dbt([*scratch, "--full-refresh", *targets[rebuilt]], rebuilt)
        assert findings == _rows(rebuilt, FINDINGS_SQL), f"incremental findings differ from a full rebuild on {run_date}"

    # the days did exercise what can go wrong incrementally (findings appearing and going away)
    assert {("CONCURRENT_CHECKIN", "T1|S5|S6"), ("HEADCOUNT_SHORTFALL", "S6"), ("FACE_NOT_SEEN", "S5|T1"),
            ("EXAM_DURING_TRAINING", "R3"), ("CAMERA_DOWN", "S5"), ("CHECKIN_BURST", "S6")} <= seen["2024-03-03"]
    assert not {("CONCURRENT_CHECKIN", "T1|S5|S6"), ("HEADCOUNT_SHORTFALL", "S6"), ("EXAM_DURING_TRAINING", "R3"),
                ("CAMERA_DOWN", "S5")} & seen["2024-03-04"]
    assert ("INSUFFICIENT_HOURS", "CL1") in seen["2024-03-04"]  # S2 left K1: T1 attended 2 of 4 hours
    assert ("CONCURRENT_CHECKIN", "T2|S5|S6") in seen["2024-03-04"]
    assert ("FACE_NOT_SEEN", "S5|T1") not in seen["2024-03-04"]  # its face event in the next day's folder
    assert ("EXAM_DURING_TRAINING", "R4") in seen["2024-03-20"]  # the late exam
    # 2024-03-03's folder holds C1's events from 08:58 that day on, after S2 (C1, 2024-03-02 09:00-11:00)
    # ended: S2 is not recomputed, while S3 (C2's late file for its own day) is
    assert built["2024-03-03"]["S2"] == built["2024-03-02"]["S2"]
    assert built["2024-03-03"]["S3"] != built["2024-03-02"]["S3"]
    assert not {("CONCURRENT_CHECKIN", "T2|S5|S6"), ("UNREGISTERED_SITE", "S4")} & seen["2024-03-20"]
    (marks,), = _rows(incremental, "select count(distinct model_name) from rules.incremental_marks")
    # the 9 incremental rules, int_sessions_checked_in_by_trainee, fct_subsidy_claims, fct_enrollments, dim_trainees,
    # int_risk_session_measures
    assert marks == 14

    # on the last day, the marts and the incremental intermediate/facts equal the full rebuild's too
    # the per-session risk features compared below: the dataset gives two of them rows (coverage, face check-ins)
    features = _rows(incremental, "select feature_code, count(*) from intermediate.int_risk_session_measures group by 1")
    assert len(features) >= 2 and sum(n for _, n in features) >= 6, features
    for name, sql in COMPARED_AT_END.items():
        assert _rows(incremental, sql) == _rows(rebuilt, sql), name
