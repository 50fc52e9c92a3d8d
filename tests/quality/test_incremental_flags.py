"""Incremental record flags: re-checking only the records whose inputs changed, over several loads,
ends with exactly the findings of one full run; unchanged records keep their findings.

Each load changes a different input of the rules (the record itself, its session, class, site,
institution, trainee, enrollments, exam, evaluation org), as the loaders do: the row is rewritten
with ``_loaded_at = now()``."""
from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest

from supervision.quality import RULE_DEFAULTS, run_record_flags
from supervision.quality.flags import render_flag_suites
from tests.quality import rows as r
from tests.quality.test_record_flags import load_scenario

pytestmark = pytest.mark.slow  # not in `make test-fast` (real dbt builds, services or subprocesses)

NO_OVERLAP = dt.timedelta(0)  # the loads below follow each other within seconds
FINDING_COLUMNS = "rule_code, entity_type, entity_key, district_code, occurred_on, evidence::text"


def touch(conn: psycopg.Connection, table: str, where: str, **values: Any) -> None:
    """Update rows as a loader's merge does (new version, _loaded_at = now())."""
    sets = ", ".join(f"{k} = %s" for k in values)
    cur = conn.execute(f"update {table} set {sets}, _loaded_at = now() where {where}", list(values.values()))
    assert cur.rowcount > 0, f"{table} where {where}: no row"


def load_2(conn: psycopg.Connection) -> None:
    touch(conn, "raw_training.attendance", "attendance_id = 1", face_score=0.5)        # the record
    touch(conn, "raw_training.sessions", "session_id = 'S2'", site_id="SITE1")          # its session
    touch(conn, "raw_training.classes", "class_id = 'C_UNSUB'", subsidised=True)        # its class
    touch(conn, "raw_training.sites", "site_id = 'SITE1'", district_code="310106")      # its site
    touch(conn, "raw_training.institutions", "institution_id = 'INS2'", district_code="310117")
    touch(conn, "raw_training.trainees", "trainee_id = 'T16'", birth_date="2008-03-02")  # AGE: a trainee
    r.enrollment(conn, "E_EARLY", "C_SUB", "T_BADCHECK", "2023-12-01 10:00+08")          # new earliest enrollment
    r.org(conn, "ORG2", "310107")
    touch(conn, "raw_assessment.exam_sessions", "exam_id = 'X1'", org_id="ORG2")        # an exam
    touch(conn, "raw_assessment.exam_results", "result_id = 'R599'", theory_score=65)   # a result
    r.session(conn, "OH_NEW", "C2", "SITE_X", "2024-03-08 05:00+08", "2024-03-08 09:00+08")
    r.attendance(conn, 100, "OH_NEW", "2024-03-08 04:00+08", method="card", score=None)
    r.result(conn, "R_NEW", "X1", 40, 40, "合格")


def load_3(conn: psycopg.Connection) -> None:
    touch(conn, "raw_training.sessions", "session_id = 'S1'", status="cancelled")
    touch(conn, "raw_training.sessions", "session_id = 'OH_0659'", status="scheduled")  # leaves the population
    touch(conn, "raw_training.institutions", "institution_id = 'INS1'", district_code="310109")
    touch(conn, "raw_training.institutions", "institution_id = 'INS2'", district_code="310118")
    touch(conn, "raw_assessment.evaluation_orgs", "org_id = 'ORG2'", district_code="310108")


def load_4(conn: psycopg.Connection) -> None:
    touch(conn, "raw_training.classes", "class_id = 'C_SUB'", start_date="2024-03-02")  # ages change
    touch(conn, "raw_assessment.exam_sessions", "exam_id = 'X1'", org_id="ORG1")
    touch(conn, "raw_training.trainees", "trainee_id = 'T_OK'", id_check_ok=False)    # INVALID_ID fires
    touch(conn, "raw_assessment.exam_results", "result_id = 'R_BADCHECK'", id_check_ok=True)  # and clears


def load_5(conn: psycopg.Connection) -> None:
    """Two changes that reach their records through one join each, and through nothing else."""
    touch(conn, "raw_training.classes", "class_id = 'C_UNSUB'", subsidised=False)       # WEAK no more
    touch(conn, "raw_training.enrollments", "enrollment_id = 'E_EARLY'", enrolled_at="2024-02-15 10:00+08")


def load_6(conn: psycopg.Connection) -> None:
    """Changes to records themselves (none of the rows they join changes), and one class."""
    touch(conn, "raw_training.attendance", "attendance_id = 2", face_score=0.9)         # WEAK clears
    r.attendance(conn, 101, "S2", "2024-03-01 13:00+08", method="card", score=None)     # WEAK fires
    touch(conn, "raw_training.sessions", "session_id = 'OH_2201'", ends_at="2024-03-05 21:00+08")
    touch(conn, "raw_training.sessions", "session_id = 'S_NOINST'", starts_at="2024-03-04 08:00+08")  # 30 clears
    touch(conn, "raw_training.classes", "class_id = 'C2'", institution_id="INS1")       # OH_NEW, 100, T_BADCHECK
    r.enrollment(conn, "E_T16B", "C_NOINST", "T16")                                     # AGE fires
    touch(conn, "raw_assessment.exam_results", "result_id = 'R_FAIL599'", theory_score=60)  # SCORE fires
    touch(conn, "raw_assessment.exam_results", "result_id = 'R_OK'", id_check_ok=False)     # INVALID fires
    r.exam(conn, "X_MISSING", "ORG1")                                                   # R_BADFMT, R_NOEXAM


def current_findings(url: str) -> set[tuple]:
    with psycopg.connect(url) as conn:
        return set(conn.execute(f"select {FINDING_COLUMNS} from ops.gx_rule_findings").fetchall())


def full_population_findings(url: str) -> set[tuple]:
    """What one full run finds now: every suite's rule over its whole population (plain SQL)."""
    out: set[tuple] = set()
    with psycopg.connect(url) as conn:
        for s in render_flag_suites(dict(RULE_DEFAULTS)):
            query = s.unexpected_rows_query.replace("{batch}", f"(\n{s.asset_sql}\n) as population")
            out |= set(conn.execute(f"select {FINDING_COLUMNS} from ({query}) as f").fetchall())
    return out


@pytest.fixture
def flags(warehouse_db, tmp_path):
    def run(run_id: str, **kw):
        return run_record_flags(warehouse_db, run_id, thresholds=dict(RULE_DEFAULTS), gx_dir=tmp_path / "gx",
                                overlap=NO_OVERLAP, **kw)
    return run


def test_incremental_runs_end_with_the_findings_of_a_full_run(warehouse_db, flags):
    with psycopg.connect(warehouse_db) as conn:
        load_scenario(conn)
    first = flags("run-1")
    assert first.mode == "full"
    after_first = current_findings(warehouse_db)
    assert after_first == full_population_findings(warehouse_db) and len(after_first) == 33

    population = sum(c["checked"] for c in first.checked.values())
    for i, load in enumerate((load_2, load_3, load_4, load_5, load_6), start=2):
        before = current_findings(warehouse_db)
        with psycopg.connect(warehouse_db) as conn:
            load(conn)
        counts = flags(f"run-{i}")
        assert counts.mode == "incremental"
        checked = sum(c["checked"] for c in counts.checked.values())
        assert 0 < checked < population, (i, counts.checked)   # only what the load touched
        now = current_findings(warehouse_db)
        assert now == full_population_findings(warehouse_db), f"after load {i}"
        assert now != before, f"load {i} changes findings"      # the scenario really moves them
        assert sum(counts.values()) == len(now)                  # counts are the complete set

    # and a real full run agrees, finding by finding
    incremental = current_findings(warehouse_db)
    assert flags("run-full", full=True).mode == "full"
    assert current_findings(warehouse_db) == incremental

    with psycopg.connect(warehouse_db) as conn:
        runs = conn.execute("select run_id, mode from ops.gx_flag_runs order by flag_run_id").fetchall()
        consistent = conn.execute("select bool_and((summary->>'consistent')::boolean) from"
                                  " ops.gx_validation_results where kind = 'flags'").fetchone()[0]
    assert runs == [("run-1", "full"), ("run-2", "incremental"), ("run-3", "incremental"),
                    ("run-4", "incremental"), ("run-5", "incremental"),
                    ("run-6", "incremental"), ("run-full", "full")]
    assert consistent is True


@pytest.mark.parametrize("read", ["scan", "index"])
def test_specific_dependencies_move_findings(warehouse_db, flags, monkeypatch, read):
    """Spot checks of what load 2 and 3 must do through joined rows only; the changed attendance
    read through a scan of the table and through its key's index (INDEX_SHARE_MAX)."""
    from supervision.quality import flags as flags_module

    monkeypatch.setattr(flags_module, "INDEX_SHARE_MAX", 0.0 if read == "scan" else 1.0)
    with psycopg.connect(warehouse_db) as conn:
        load_scenario(conn)
        conn.execute("analyze raw_training.attendance")  # the planner's row count, which the share reads
    flags("run-1")
    with psycopg.connect(warehouse_db) as conn:
        load_2(conn)
    second = flags("run-2")
    attendance_suites = ("flags_weak_identity", "flags_attendance_outside_window")
    assert {second.checked[name]["by_index"] for name in attendance_suites} == {int(read == "index")}
    assert second.checked["flags_session_odd_hours"]["by_index"] == 0  # no key table: always the semi-join
    with psycopg.connect(warehouse_db) as conn:
        found = {(f[0], f[2]): f for f in conn.execute(
            "select rule_code, entity_type, entity_key, district_code, occurred_on, run_id"
            " from ops.gx_rule_findings").fetchall()}
    assert found[("WEAK_IDENTITY", "6")][3] == "310106"            # class became subsidised; site's district
    assert found[("WEAK_IDENTITY", "8")][3] == "310106"            # session moved to SITE1
    assert found[("WEAK_IDENTITY", "5")][5] == "run-2"             # site changed: re-checked
    assert found[("INVALID_ID_NUMBER", "T_BADCHECK")][3:5] == ("310104", dt.date(2023, 12, 1))
    assert found[("AGE_OUT_OF_RANGE", "E16")][5] == "run-2"        # trainee's birth date changed
    assert ("SCORE_FLAG_MISMATCH", "R599") not in found
    assert found[("SCORE_FLAG_MISMATCH", "R_MISS")][3] == "310107"  # exam moved to ORG2
    assert found[("SESSION_ODD_HOURS", "OH_NEW")][3] == "310117"   # new session, INS2's new district
    # untouched records keep the finding (and the run) that found them
    assert found[("INVALID_ID_NUMBER", "T_BADFMT")][5] == "run-1"
    assert found[("SESSION_ODD_HOURS", "OH_2201")][5] == "run-2"   # SITE1 changed: re-checked
    assert found[("AGE_OUT_OF_RANGE", "E_NOINST")][5] == "run-1"

    with psycopg.connect(warehouse_db) as conn:
        load_3(conn)
    flags("run-3")
    keys = {(f[0], f[2]) for f in current_findings(warehouse_db)}
    assert ("SESSION_ODD_HOURS", "OH_0659") not in keys            # no longer held
    assert ("WEAK_IDENTITY", "6") in keys
    with psycopg.connect(warehouse_db) as conn:
        load_5(conn)
    flags("run-5")
    found = {(f[0], f[2]): f for f in current_findings(warehouse_db)}
    assert ("WEAK_IDENTITY", "6") not in found                     # class no longer subsidised
    assert found[("INVALID_ID_NUMBER", "T_BADCHECK")][3:5] == ("310118", dt.date(2024, 1, 1))  # E_BC2 earliest
    assert ("ATTENDANCE_OUTSIDE_WINDOW", "1") in keys              # S1 cancelled: every row fires


def test_a_run_without_changes_checks_nothing_and_keeps_everything(warehouse_db, flags):
    with psycopg.connect(warehouse_db) as conn:
        load_scenario(conn)
    flags("run-1")
    before = current_findings(warehouse_db)
    again = flags("run-2")
    assert again.mode == "incremental"
    # only the trainee born after the last run's date (T_FUTURE: time alone could clear it)
    assert {k: c["checked"] for k, c in again.checked.items() if c["checked"]} == {
        "flags_invalid_id_number__trainees": 1}
    assert sum(c["findings_removed"] for c in again.checked.values()) == 1
    assert current_findings(warehouse_db) == before
    assert sum(again.values()) == len(before)


def test_a_load_in_flight_during_a_run_is_checked_by_the_next(warehouse_db, flags):
    """A load that began before a run and commits after it stamps its rows with its own start: the
    run's snapshot is that start, so the next run re-checks them, with no margin of time (overlap
    0: the snapshot alone carries it)."""
    with psycopg.connect(warehouse_db) as conn:
        load_scenario(conn)
    flags("run-1")
    assert ("WEAK_IDENTITY", "2") in {(f[0], f[2]) for f in current_findings(warehouse_db)}
    with psycopg.connect(warehouse_db) as load:  # one transaction, committed when the block ends
        touch(load, "raw_training.attendance", "attendance_id = 2", face_score=0.9)  # WEAK clears
        second = flags("run-2")
        assert second.checked["flags_weak_identity"]["checked"] == 0  # the load is not visible yet
        started = load.execute("select now()").fetchone()[0]
    with psycopg.connect(warehouse_db) as conn:
        snapshot = conn.execute("select snapshot_at from ops.gx_flag_runs where run_id = 'run-2'").fetchone()[0]
    assert snapshot == started
    third = flags("run-3")
    assert third.checked["flags_weak_identity"]["checked"] >= 1
    assert current_findings(warehouse_db) == full_population_findings(warehouse_db)
    assert ("WEAK_IDENTITY", "2") not in {(f[0], f[2]) for f in current_findings(warehouse_db)}
