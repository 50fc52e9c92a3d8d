"""The dbt project end to end on a real PostgreSQL: a small hand-made raw dataset, `dbt build`
(seeds, models, data tests, unit tests) through supervision.dbt_runner, then independent checks:
the target progress mart recomputed from the raw tables by a separate query, the findings the
dataset was built to trigger (and not others), incremental correctness with late video files and
corrected source rows, and a comment on every marts column."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from supervision.dbt_runner import DbtError, build_manifest, dbt_env, run_dbt

pytestmark = pytest.mark.slow  # not in `make test-fast` (real dbt builds, services or subprocesses)

HERE = Path(__file__).resolve().parent
CITY = "310000"


def _rows(url: str, sql: str, *args) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, args or None).fetchall()


def _exec(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


# Independent recomputation of district_target_progress's non-zero values straight from raw_*,
# written without the dbt models (MARTS.md's table, read afresh).
EXPECTED_PROGRESS_SQL = """
with comp as (
    select e.trainee_id, e.completed_on, c.programme, c.subsidised, o.category, i.district_code
    from raw_training.enrollments e
    join raw_training.classes c on c.class_id = e.class_id
    join raw_training.institutions i on i.institution_id = c.institution_id
    left join raw_training.occupations o on o.occupation_code = c.occupation_code
    where e.status = 'completed' and e.completed_on is not null
), appr as (
    select t.person_key, comp.district_code, comp.completed_on
    from comp join raw_training.trainees t on t.trainee_id = comp.trainee_id
    where comp.programme = 'apprenticeship'
), ev as (
    select district_code, date_trunc('month', completed_on)::date m, 'subsidised_training' k from comp where subsidised
    union all select district_code, date_trunc('month', completed_on)::date, 'new_skill_training' from comp where programme = 'new_skill'
    union all select district_code, date_trunc('month', completed_on)::date, 'life_service_training' from comp where category = 'life_service'
    union all select district_code, date_trunc('month', min(completed_on))::date, 'apprenticeship_training'
              from appr group by district_code, person_key, extract(year from completed_on)
    union all select o.district_code, date_trunc('month', c.issued_on)::date, 'high_skill_certificates'
              from raw_assessment.certificates c join raw_assessment.evaluation_orgs o on o.org_id = c.org_id
              where c.skill_level between 1 and 3
    union all select district_code, date_trunc('month', registered_on)::date, 'new_employer_evaluation_orgs'
              from raw_assessment.evaluation_orgs where kind = '用人單位'
    union all select district_code, date_trunc('month', registered_on)::date, 'new_college_evaluation_orgs'
              from raw_assessment.evaluation_orgs where kind = '院校'
), district as (
    select district_code, m, k, count(*) n from ev group by 1, 2, 3
), city as (
    select '310000' district_code, m, k, sum(n) n from district where k <> 'apprenticeship_training' group by 2, 3
    union all
    select '310000', date_trunc('month', f)::date, 'apprenticeship_training', count(*)
    from (select person_key, min(completed_on) f from appr group by person_key, extract(year from completed_on)) p
    group by 2
)
select district_code, m, k, n::bigint from district union all select * from city
"""


def _findings(url: str) -> set[tuple[str, str]]:
    return set(_rows(url, "select rule_code, entity_key from rules.rule_findings"))


def test_dbt_build_marts_rules_and_incremental_late_data(built_warehouse: str) -> None:
    url = built_warehouse

    # --- district_target_progress equals the independent recomputation -----------------------
    mart = set(_rows(url, "select district_code, month, metric_code, month_value from marts.district_target_progress "
                          "where month_value <> 0"))
    expected = set(_rows(url, EXPECTED_PROGRESS_SQL))
    assert mart == expected
    (n, months), = _rows(url, "select count(*), count(distinct month) from marts.district_target_progress")
    assert months == 12 and n == 12 * 17 * 7  # every district x month x metric of 2024, zeros included
    targets = dict(_rows(url, "select metric_code, annual_target from marts.district_target_progress "
                              "where district_code = %s and month = '2024-12-01'", CITY))
    assert targets["subsidised_training"] == 800000 and targets["new_college_evaluation_orgs"] == 30
    (pct,), = _rows(url, "select ytd_pct_of_target from marts.district_target_progress where district_code = %s "
                         "and month = '2024-12-01' and metric_code = 'subsidised_training'", CITY)
    assert float(pct) == pytest.approx(3 * 100 / 800000)

    # --- the findings the dataset was built for, and no others ----------------------------------
    assert _findings(url) == {
        ("CAMERA_DOWN", "S2"), ("CAMERA_DOWN", "S3"), ("CAMERA_DOWN", "S4"),
        ("UNREGISTERED_SITE", "S4"),
        ("INSUFFICIENT_HOURS", "CL2"), ("CERTIFICATE_MISMATCH", "CL2"),
        ("OUT_OF_SCOPE_CLASS", "K4"),
        ("ASSESSOR_DOUBLE_BOOKED", "A2|EX1|EX2"),
        ("CERTIFICATE_WITHOUT_PASS", "Z3"),
    }
    (cov,), = _rows(url, "select minutes_uncovered from core.fct_session_video_coverage where session_id = 'S2'")
    assert cov == 50  # C1 last heard at 10:00: up through 10:09, down 10:10 .. 10:59
    districts = dict(_rows(url, "select entity_key, district_code from rules.rule_findings where rule_code = 'CAMERA_DOWN'"))
    assert districts == {"S2": "310104", "S3": "310115", "S4": "310115"}

    # --- marts that count alerts ---------------------------------------------------------------
    sc = _rows(url, "select alerts_medium, sessions_held, camera_coverage_pct, grade from marts.institution_scorecard "
                    "where institution_id = 'I1' and month = '2024-03-01'")
    assert sc and sc[0][0] == 1 and sc[0][1] == 2 and float(sc[0][2]) == pytest.approx(100 * 190 / 240, abs=0.01)
    (org_alerts,), = _rows(url, "select alerts_medium from marts.evaluation_org_quality where org_id = 'G1' "
                                "and month = '2024-03-01'")
    assert org_alerts == 1

    # --- every marts column carries a comment (BI contract) -----------------------------------
    missing = _rows(url, """
        select c.table_name || '.' || c.column_name from information_schema.columns c
        join pg_class t on t.relname = c.table_name
        join pg_namespace n on n.oid = t.relnamespace and n.nspname = c.table_schema
        where c.table_schema = 'marts' and col_description(t.oid, c.ordinal_position) is null""")
    assert missing == []

    # --- incremental correctness: late video, corrected session, corrected attendance ----------
    # (1) a late video file for 2024-03-01 (S3 was silent): C2 heartbeats through S3
    _exec(url, """
        insert into raw_video.events (event_id, camera_id, ts, type, state, local_date, file_id, line_no)
        select gen_random_uuid(), 'C2', '2024-03-01 13:55+08'::timestamptz + n * interval '5 minutes', 'status',
               'online', '2024-03-01', 20, n
        from generate_series(0, 25) n""")
    # (2) S4 (outside the lookback of run_date 2024-03-20) corrected to cancelled weeks later
    _exec(url, "update raw_training.sessions set status = 'cancelled', updated_at = now(), _loaded_at = now() "
               "where session_id = 'S4'")
    # (3) T2's missing check_out in S2 arrives
    _exec(url, "insert into raw_training.attendance (attendance_id, session_id, trainee_id, event, method, device_id, "
               "captured_at, face_score, updated_at) values (8, 'S2', 'T2', 'check_out', 'face', 'D1', "
               "'2024-03-02 11:00+08', 0.9, now())")
    # a run for 2024-03-03 sees the late file (S3's day is in its lookback window) ...
    run_dbt(["build", "--exclude", "tag:after_alerts", "test_type:unit"], url, vars={"run_date": "2024-03-03"})
    # ... and S4's correction and the new attendance row are picked up through _loaded_at
    assert _findings(url) == {
        ("CAMERA_DOWN", "S2"),
        ("CERTIFICATE_MISMATCH", "CL2"),
        ("OUT_OF_SCOPE_CLASS", "K4"),
        ("ASSESSOR_DOUBLE_BOOKED", "A2|EX1|EX2"),
        ("CERTIFICATE_WITHOUT_PASS", "Z3"),
    }
    # the incremental facts equal a full rebuild
    before = _rows(url, "select session_id, is_held_onsite, minutes_total, minutes_covered, max_headcount, face_events "
                        "from core.fct_session_video_coverage order by 1")
    checkins = _rows(url, "select session_id, trainee_id, check_in_rows, check_out_rows, first_check_in_at, "
                          "last_check_out_at from core.fct_session_checkins order by 1, 2")
    run_dbt(["run", "--full-refresh", "--select", "fct_session_video_coverage", "fct_session_checkins"], url)
    assert before == _rows(url, "select session_id, is_held_onsite, minutes_total, minutes_covered, max_headcount, "
                                "face_events from core.fct_session_video_coverage order by 1")
    assert checkins == _rows(url, "select session_id, trainee_id, check_in_rows, check_out_rows, first_check_in_at, "
                                  "last_check_out_at from core.fct_session_checkins order by 1, 2")


def test_a_tables_cascading_drop_waits_for_the_drop_lock(built_warehouse: str) -> None:
    """macros/drop_relation.sql: a table's rebuild drops its previous version (and the views on it)
    only once it holds the build's drop lock, so two threads' drops of tables that share views take
    turns instead of deadlocking on the views' rules. Here the test holds the lock; the rebuild of
    dim_exam_sessions (four views read it) must wait at its drop, and finish once the lock goes."""
    import threading
    import time

    url = built_warehouse
    shared_views = ("int_alerts_joined_to_owners", "int_months_holding_data")
    assert {r[0] for r in _rows(url, "select viewname from pg_views where viewname = any(%s)",
                                list(shared_views))} == set(shared_views)
    errors: list[BaseException] = []

    def rebuild() -> None:
        try:
            run_dbt(["run", "--select", "dim_exam_sessions"], url, vars={"run_date": "2024-03-05"})
        except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
            errors.append(exc)

    holder = psycopg.connect(url)
    try:
        holder.execute("select pg_advisory_xact_lock(hashtext('supervision.dbt.drop_relation'))")
        worker = threading.Thread(target=rebuild, daemon=True)
        worker.start()
        waiting = []
        deadline = time.monotonic() + 120
        while not waiting and worker.is_alive() and time.monotonic() < deadline:
            waiting = _rows(url, "select a.query from pg_locks l join pg_stat_activity a using (pid)"
                                 " where l.locktype = 'advisory' and not l.granted and a.datname = current_database()")
            time.sleep(0.2)
        assert waiting, f"the rebuild never waited for the drop lock: {errors}"
        assert "drop table if exists" in waiting[0][0] and "dim_exam_sessions__dbt_backup" in waiting[0][0]
        # the new table is committed; its previous version and the views on it are still there
        assert _rows(url, "select count(*) from pg_class where relname = 'dim_exam_sessions__dbt_backup'") == [(1,)]
        assert worker.is_alive()
    finally:
        holder.rollback()
        holder.close()
    worker.join(timeout=120)
    assert not worker.is_alive() and not errors, errors
    assert _rows(url, "select count(*) from pg_class where relname = 'dim_exam_sessions__dbt_backup'") == [(0,)]
    assert _rows(url, "select count(*) from core.dim_exam_sessions") != [(0,)]


def test_run_dbt_raises_readable_error(warehouse_db: str) -> None:
    # a rule model run alone on an empty warehouse: its upstream relations do not exist
    with pytest.raises(DbtError, match=r"(?s)dbt run --select rule_camera_down failed.*rule_camera_down.*does not exist"):
        run_dbt(["run", "--select", "rule_camera_down"], warehouse_db)


def test_dbt_env_and_manifest() -> None:
    env = dbt_env("postgresql+psycopg://u%40x:p%2Fw@db.example:6543/wh")
    assert env == {"SUPERVISION_DBT_HOST": "db.example", "SUPERVISION_DBT_PORT": "6543",
                   "SUPERVISION_DBT_USER": "u@x", "SUPERVISION_DBT_PASSWORD": "p/w", "SUPERVISION_DBT_DBNAME": "wh"}
    manifest = build_manifest()
    assert manifest.name == "manifest.json" and manifest.stat().st_size > 0
