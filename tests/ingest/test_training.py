"""Training platform pull: incremental merge, history, enums, dangling references, PII, outages."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import psycopg
import pytest

from supervision.ingest.training import SourceUnavailable, pull_table, pull_training_platform
from supervision.pii import mask_id, person_key

from .conftest import PII_KEY, audit_rows, fingerprints, quarantine_reasons, text_outside_pii

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
ID_A, ID_B = "11010519491231002X", "110105194912310021"  # valid; wrong check digit
PHONE = "13800138000"


def seed(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("insert into occupations values ('4-10-01-05', '養老護理員', 'life_service', true, %s),"
                     " ('X-1', '壞', 'alchemy', false, %s)", (T0, T0))
        conn.execute("insert into institutions values ('INS1', '甲', '91310000MA1FL0000X', 'private', '310104',"
                     " '2023-01-01', '2025-12-31', %s)", (T0,))
        conn.execute("insert into institution_occupations values ('INS1', '4-10-01-05', '2023-01-01', '2025-12-31', %s)",
                     (T0,))
        conn.execute("insert into sites values ('S1', 'INS1', '310104', '路1號', true, %s),"
                     " ('S2', 'INS404', '310104', '路2號', false, %s)", (T0, T0))
        conn.execute("insert into cameras values ('CAM1', 'S1', '2023-01-01', %s)", (T0,))
        conn.execute("insert into classes values ('C1', 'INS1', '4-10-01-05', 5, 'standard', true, 80, '2024-03-01',"
                     " '2024-04-30', 'running', %s), ('C2', 'INS1', '4-10-01-05', 7, 'standard', true, 80,"
                     " '2024-03-01', '2024-04-30', 'running', %s)", (T0, T0))
        conn.execute("insert into sessions values ('SE1', 'C1', 'S9', %s, %s, 'onsite', 'held', %s),"
                     " ('SE2', 'C1', 'S1', %s, %s, 'hybrid', 'held', %s)",
                     (T0, T0 + timedelta(hours=2), T0, T0, T0 + timedelta(hours=2), T0))
        conn.execute("insert into trainees values ('T1', %s, '張三', 'M', '1949-12-31', %s, %s),"
                     " ('T2', %s, '李四', 'F', '1949-12-31', null, %s), ('T3', %s, '王五', 'X', '1949-12-31', %s, %s)",
                     (ID_A, PHONE, T0, ID_B, T0, ID_A, PHONE, T0))
        conn.execute("insert into enrollments values ('EN1', 'C1', 'T1', %s, 'active', null, %s)", (T0, T0))
        conn.execute("insert into attendance values (1, 'SE1', 'T1', 'check_in', 'face', 'D1', %s, 0.9, %s),"
                     " (2, 'SE1', 'T1', 'check_out', 'retina', 'D1', %s, null, %s)", (T0, T0, T0, T0))
        conn.execute("insert into subsidy_claims values ('CL1', 'EN1', 'T1', null, 1000, %s, 'submitted', %s)", (T0, T0))


def fetch(url: str, sql: str, *args) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, args).fetchall()


def test_full_pull_loads_checks_and_accounts_for_every_row(source_db, warehouse_db):
    seed(source_db)
    counts = pull_training_platform(source_db, warehouse_db, "run-1", PII_KEY)
    for table, c in counts.items():
        assert c["received"] == c["loaded"] + c["duplicates"] + c["quarantined"], table
    assert {t: (c["received"], c["loaded"], c["quarantined"]) for t, c in counts.items()} == {
        "occupations": (2, 1, 1), "institutions": (1, 1, 0), "institution_occupations": (1, 1, 0),
        "sites": (2, 2, 0), "cameras": (1, 1, 0), "classes": (2, 1, 1), "trainees": (3, 2, 1),
        "sessions": (2, 1, 1), "enrollments": (1, 1, 0), "attendance": (2, 1, 1), "subsidy_claims": (1, 1, 0)}
    assert quarantine_reasons(warehouse_db, "training") == {
        ("occupations", "X-1"): "enum:category", ("classes", "C2"): "enum:skill_level",
        ("trainees", "T3"): "enum:gender", ("sessions", "SE2"): "enum:delivery",
        ("attendance", "2"): "enum:method"}
    # Dangling references are loaded, and counted in the audit.
    assert fetch(warehouse_db, "select site_id from raw_training.sessions") == [("S9",)]
    assert fetch(warehouse_db, "select institution_id from raw_training.sites order by 1") == [("INS1",), ("INS404",)]
    audit = {a["object"]: a for a in audit_rows(warehouse_db, "training")}
    assert "site_id->sites=1" in audit["sessions"]["message"]
    assert "institution_id->institutions=1" in audit["sites"]["message"]
    # Trainees: pseudonym, mask and checks in raw; the plain identity only in pii.
    assert fetch(warehouse_db, "select trainee_id, person_key, id_masked, id_format_ok, id_birth_date, id_check_ok,"
                               " has_phone from raw_training.trainees order by 1") == [
        ("T1", person_key(ID_A, PII_KEY), mask_id(ID_A), True, date(1949, 12, 31), True, True),
        ("T2", person_key(ID_B, PII_KEY), mask_id(ID_B), True, date(1949, 12, 31), False, False)]
    assert fetch(warehouse_db, "select trainee_id, id_number, name, phone from pii.trainees order by 1") == [
        ("T1", ID_A, "張三", PHONE), ("T2", ID_B, "李四", None)]
    assert text_outside_pii(warehouse_db, [ID_A, ID_B, "張三", "李四", "王五", PHONE]) == []
    assert fetch(warehouse_db, "select count(*) from pii.quarantine_raw where raw_text like %s", f"%{ID_A}%") == [(1,)]
    assert fetch(warehouse_db, "select count(*) from ops.watermarks") == [(11,)]
    # A rerun reads the overlap window again and changes nothing.
    before = fingerprints(warehouse_db, ("raw_training", "pii", "ops"))
    again = pull_training_platform(source_db, warehouse_db, "run-2", PII_KEY)
    assert all(c["loaded"] == 0 for c in again.values())
    assert again["sites"]["duplicates"] == 2
    assert fingerprints(warehouse_db, ("raw_training", "pii", "ops")) == before


def test_a_later_update_replaces_the_row_and_history_keeps_both(source_db, warehouse_db):
    seed(source_db)
    pull_training_platform(source_db, warehouse_db, "run-1", PII_KEY)
    later = T0 + timedelta(days=3)
    with psycopg.connect(source_db) as conn:
        conn.execute("update institutions set license_valid_to = '2024-03-15', updated_at = %s", (later,))
        conn.execute("update subsidy_claims set status = 'paid', updated_at = %s", (later,))
        conn.execute("update trainees set phone = '13900000000', name = '張三豐', updated_at = %s where trainee_id = 'T1'",
                     (later,))
        conn.execute("update sites set registered = false, updated_at = %s where site_id = 'S1'", (later,))
    counts = pull_training_platform(source_db, warehouse_db, "run-2", PII_KEY)
    assert counts["institutions"]["loaded"] == 1
    # Unchanged tables: the overlap window re-reads their rows, which change nothing.
    assert (counts["classes"]["received"], counts["classes"]["loaded"], counts["classes"]["duplicates"]) == (2, 0, 1)
    # Incremental: the next pull of sites reads from its new mark minus the overlap, not S2 again.
    third = pull_table(source_db, warehouse_db, "run-3", PII_KEY, "sites")
    assert (third["received"], third["loaded"], third["duplicates"]) == (1, 0, 1)
    assert fetch(warehouse_db, "select site_id, registered from raw_training.sites_history order by 1, updated_at") == \
        [("S1", True), ("S1", False), ("S2", False)]
    assert fetch(warehouse_db, "select license_valid_to, updated_at from raw_training.institutions") == \
        [(date(2024, 3, 15), later)]
    assert fetch(warehouse_db, "select license_valid_to from raw_training.institutions_history order by updated_at") == \
        [(date(2025, 12, 31),), (date(2024, 3, 15),)]
    assert fetch(warehouse_db, "select status from raw_training.subsidy_claims") == [("paid",)]
    assert fetch(warehouse_db, "select name, phone from pii.trainees where trainee_id = 'T1'") == [("張三豐", "13900000000")]
    assert fetch(warehouse_db, "select high_water from ops.watermarks where source_table = 'training.institutions'") == \
        [(later,)]


def test_overlap_catches_a_late_commit_and_an_older_version_never_wins(source_db, warehouse_db):
    seed(source_db)
    pull_training_platform(source_db, warehouse_db, "run-1", PII_KEY)
    with psycopg.connect(source_db) as conn:
        conn.execute("update sessions set status = 'cancelled', updated_at = %s where session_id = 'SE1'",
                     (T0 + timedelta(hours=5),))
    pull_table(source_db, warehouse_db, "run-2", PII_KEY, "sessions")
    # A row committed late whose updated_at is 30 min before the mark: inside the 1 h overlap.
    with psycopg.connect(source_db) as conn:
        conn.execute("insert into sessions values ('SE3', 'C1', 'S1', %s, %s, 'onsite', 'held', %s)",
                     (T0, T0 + timedelta(hours=1), T0 + timedelta(hours=4, minutes=30)))
        # ... and a source that goes back in time on SE1 must not overwrite the newer version.
        conn.execute("update sessions set status = 'held', updated_at = %s where session_id = 'SE1'",
                     (T0 + timedelta(hours=4, minutes=45),))
    c = pull_table(source_db, warehouse_db, "run-3", PII_KEY, "sessions")
    assert (c["received"], c["loaded"], c["duplicates"]) == (2, 1, 1)
    assert fetch(warehouse_db, "select session_id, status from raw_training.sessions order by 1") == \
        [("SE1", "cancelled"), ("SE3", "held")]


def test_source_down_on_the_first_attempt_then_up(source_db, warehouse_db):
    seed(source_db)
    down = "postgresql://nobody:wrong@127.0.0.1:9/nowhere"  # nothing listens on port 9
    with pytest.raises(SourceUnavailable, match="unreachable while pulling occupations"):
        pull_training_platform(down, warehouse_db, "run-1", PII_KEY)
    failed = audit_rows(warehouse_db, "training")
    assert [(a["object"], a["status"]) for a in failed] == [("occupations", "failed")]
    assert fetch(warehouse_db, "select count(*) from ops.watermarks") == [(0,)]
    # The retry (same run id) succeeds and loads everything.
    counts = pull_training_platform(source_db, warehouse_db, "run-1", PII_KEY)
    assert counts["institutions"]["loaded"] == 1
    assert fetch(warehouse_db, "select count(*) from raw_training.attendance") == [(1,)]


def test_a_source_failure_mid_table_leaves_the_warehouse_as_it_was(source_db, warehouse_db, monkeypatch):
    seed(source_db)
    import sqlalchemy.exc

    from supervision.ingest import training

    def broken(*_a, **_k):
        yield from [("4-10-01-05", "養老護理員", "life_service", True, T0)]
        raise sqlalchemy.exc.OperationalError("select", {}, Exception("server closed the connection"))

    monkeypatch.setattr(training, "_read_source", broken)
    with pytest.raises(SourceUnavailable):
        pull_table(source_db, warehouse_db, "run-1", PII_KEY, "occupations")
    assert fetch(warehouse_db, "select count(*) from raw_training.occupations") == [(0,)]
    assert fetch(warehouse_db, "select count(*) from ops.watermarks") == [(0,)]
