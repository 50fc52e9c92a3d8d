"""Hand-made raw rows for the quality tests: small insert helpers with sensible defaults."""
from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

UPDATED = "2024-03-01 10:00+08"


def insert(conn: psycopg.Connection, table: str, **values: Any) -> None:
    cols = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    conn.execute(f"insert into {table} ({cols}) values ({marks})", list(values.values()))


def institution(conn, institution_id: str, district: str) -> None:
    insert(conn, "raw_training.institutions", institution_id=institution_id, name=institution_id,
           credit_code="91310000XXXXXXXXXX", kind="private", district_code=district,
           license_valid_from=dt.date(2020, 1, 1), license_valid_to=dt.date(2030, 1, 1), updated_at=UPDATED)


def site(conn, site_id: str, institution_id: str, district: str) -> None:
    insert(conn, "raw_training.sites", site_id=site_id, institution_id=institution_id, district_code=district,
           address="somewhere", registered=True, updated_at=UPDATED)


def klass(conn, class_id: str, institution_id: str, start: str, subsidised: bool = True) -> None:
    insert(conn, "raw_training.classes", class_id=class_id, institution_id=institution_id,
           occupation_code="4-10-01-05", skill_level=5, programme="standard", subsidised=subsidised,
           planned_hours=40, start_date=start, end_date="2024-06-30", status="running", updated_at=UPDATED)


def session(conn, session_id: str, class_id: str, site_id: str, starts: str, ends: str,
            status: str = "held", delivery: str = "onsite", updated: str = UPDATED) -> None:
    insert(conn, "raw_training.sessions", session_id=session_id, class_id=class_id, site_id=site_id,
           starts_at=starts, ends_at=ends, delivery=delivery, status=status, updated_at=updated)


def trainee(conn, trainee_id: str, birth: str = "1990-01-01", *, format_ok: bool = True,
            id_birth: str | dt.date | None = "1990-01-01", check_ok: bool = True, updated: str = UPDATED) -> None:
    insert(conn, "raw_training.trainees", trainee_id=trainee_id, person_key="pk_" + trainee_id,
           id_masked="310104********1234", id_format_ok=format_ok, id_birth_date=id_birth, id_check_ok=check_ok,
           gender="F", birth_date=birth, has_phone=True, updated_at=updated)


def enrollment(conn, enrollment_id: str, class_id: str, trainee_id: str, enrolled: str = "2024-02-01 10:00+08") -> None:
    insert(conn, "raw_training.enrollments", enrollment_id=enrollment_id, class_id=class_id, trainee_id=trainee_id,
           enrolled_at=enrolled, status="active", updated_at=UPDATED)


def attendance(conn, attendance_id: int, session_id: str, captured: str, *, event: str = "check_in",
               method: str = "face", score: float | None = 0.9, trainee_id: str = "T_OK",
               updated: str | None = None) -> None:
    insert(conn, "raw_training.attendance", attendance_id=attendance_id, session_id=session_id,
           trainee_id=trainee_id, event=event, method=method, device_id="D1", captured_at=captured,
           face_score=score, updated_at=updated or captured)


def org(conn, org_id: str, district: str) -> None:
    insert(conn, "raw_assessment.evaluation_orgs", org_id=org_id, name=org_id, kind="社會評價組織",
           district_code=district, occupation_codes=["4-10-01-05"], registered_on="2020-01-01",
           valid_to="2030-01-01", delivery_date="2024-03-01", file_id=1, line_no=1)


def exam(conn, exam_id: str, org_id: str, starts: str | None = "2024-03-02 09:00+08",
         ends: str | None = "2024-03-02 11:00+08", delivery: str = "2024-03-02") -> None:
    insert(conn, "raw_assessment.exam_sessions", exam_id=exam_id, org_id=org_id, occupation_code="4-10-01-05",
           skill_level=5, starts_at=starts, ends_at=ends, assessor_ids=["A1"], registered=30,
           delivery_date=delivery, file_id=1, line_no=1)


def result(conn, result_id: str, exam_id: str, theory: float | str | None, practical: float | str | None,
           passed: str, *, recorded: str | None = "2024-03-02 12:00+08", format_ok: bool = True,
           id_birth: str | None = "1990-01-01", check_ok: bool = True, delivery: str = "2024-03-02") -> None:
    insert(conn, "raw_assessment.exam_results", result_id=result_id, exam_id=exam_id, person_key="pk_" + result_id,
           id_masked="310104********1234", id_format_ok=format_ok, id_birth_date=id_birth, id_check_ok=check_ok,
           theory_score=theory, practical_score=practical, passed=passed, recorded_at=recorded,
           delivery_date=delivery, file_id=1, line_no=1)


TRAINING_TABLES = ("occupations", "institutions", "institution_occupations", "sites", "cameras", "classes",
                   "trainees", "sessions", "enrollments", "attendance", "subsidy_claims")


def training_pull(conn, started: str | dt.datetime = "now", status: str = "ok",
                  tables: tuple[str, ...] = TRAINING_TABLES) -> None:
    """The training loader's audit rows of one pull of ``tables`` (one row per table)."""
    for table in tables:
        conn.execute("insert into ops.load_audit (run_id, source, object, started_at, finished_at, status)"
                     " values ('pull', 'training', %s, %s::timestamptz, %s::timestamptz, %s)",
                     (table, started, started, status))
