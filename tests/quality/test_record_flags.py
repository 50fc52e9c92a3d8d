"""The six record-level rules: hand-made positives and boundary near-misses, exact findings.

One scenario (below) is loaded once and flagged once; each test checks one rule's findings
(keys and districts), and that GX's unexpected counts equal the findings inserted."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import psycopg
import pytest

from supervision.quality import RULE_DEFAULTS, run_record_flags
from tests.quality import rows as r

TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def load_scenario(conn: psycopg.Connection) -> None:
    r.institution(conn, "INS1", "310104")
    r.institution(conn, "INS2", "310115")
    r.site(conn, "SITE1", "INS1", "310105")          # the site's district wins over the institution's
    r.klass(conn, "C_SUB", "INS1", "2024-03-01")
    r.klass(conn, "C_UNSUB", "INS1", "2024-03-01", subsidised=False)
    r.klass(conn, "C_NOINST", "INS_MISSING", "2024-03-01")
    r.klass(conn, "C2", "INS2", "2024-01-10")
    r.session(conn, "S1", "C_SUB", "SITE1", "2024-03-01 09:00+08", "2024-03-01 12:00+08")
    r.session(conn, "S2", "C_SUB", "SITE_X", "2024-03-01 13:00+08", "2024-03-01 17:00+08")   # site unknown
    r.session(conn, "S_CANCEL", "C_SUB", "SITE1", "2024-03-02 09:00+08", "2024-03-02 12:00+08", status="cancelled")
    r.session(conn, "S_UNSUB", "C_UNSUB", "SITE1", "2024-03-03 09:00+08", "2024-03-03 12:00+08")
    r.session(conn, "S_NOINST", "C_NOINST", "SITE_X", "2024-03-04 09:00+08", "2024-03-04 12:00+08")
    # SESSION_ODD_HOURS boundaries (all held unless said otherwise)
    for sid, starts, ends, status in [
        ("OH_0700", "2024-03-05 07:00+08", "2024-03-05 12:00+08", "held"),        # ok
        ("OH_0659", "2024-03-05 06:59+08", "2024-03-05 12:00+08", "held"),        # fires (UTC date 03-04)
        ("OH_2200", "2024-03-05 14:00+08", "2024-03-05 22:00+08", "held"),        # ok
        ("OH_2201", "2024-03-05 14:00+08", "2024-03-05 22:00:01+08", "held"),     # fires
        ("OH_8H", "2024-03-06 08:00+08", "2024-03-06 16:00+08", "held"),          # ok: exactly 8 h
        ("OH_8H1S", "2024-03-06 08:00+08", "2024-03-06 16:00:01+08", "held"),     # fires
        ("OH_NEXTDAY", "2024-03-06 21:00+08", "2024-03-07 00:00+08", "held"),     # fires: later local date
        ("OH_NOEND", "2024-03-06 10:00+08", "2024-03-06 10:00+08", "held"),       # fires: no end after start
        ("OH_UTC", "2024-03-06 23:30+00", "2024-03-07 03:30+00", "held"),         # ok: 07:30-11:30 local
        ("OH_SCHED", "2024-03-06 05:00+08", "2024-03-06 12:00+08", "scheduled"),  # not held: no
    ]:
        r.session(conn, sid, "C_SUB", "SITE1", starts, ends, status=status)

    # WEAK_IDENTITY (S1 09:00-12:00, all within the window)
    r.attendance(conn, 1, "S1", "2024-03-01 09:00+08", score=0.75)                 # ok: exactly 0.75
    r.attendance(conn, 2, "S1", "2024-03-01 09:00+08", score=0.749)                # fires
    r.attendance(conn, 3, "S1", "2024-03-01 09:00+08", method="card", score=None)  # fires
    r.attendance(conn, 4, "S1", "2024-03-01 09:00+08", score=None)                 # fires: face without score
    r.attendance(conn, 5, "S1", "2024-03-01 11:00+08", event="check_out", method="manual", score=0.9)  # fires
    r.attendance(conn, 6, "S_UNSUB", "2024-03-03 09:00+08", method="card", score=None)  # class not subsidised
    r.attendance(conn, 7, "S_MISSING", "2024-03-01 03:00+08", method="card", score=None)  # unknown session
    r.attendance(conn, 8, "S2", "2024-03-01 13:00+08", method="card", score=None)  # fires, district 310104
    # ATTENDANCE_OUTSIDE_WINDOW on S1 (09:00-12:00), face 0.9 so never weak
    r.attendance(conn, 20, "S1", "2024-03-01 08:30:00+08")                         # ok: exactly -30 min
    r.attendance(conn, 21, "S1", "2024-03-01 08:29:59+08")                         # fires
    r.attendance(conn, 22, "S1", "2024-03-01 12:00:00+08")                         # fires: at ends_at
    r.attendance(conn, 23, "S1", "2024-03-01 11:59:59+08")                         # ok
    r.attendance(conn, 24, "S1", "2024-03-01 09:00:00+08", event="check_out")      # fires: at starts_at
    r.attendance(conn, 25, "S1", "2024-03-01 09:00:01+08", event="check_out")      # ok
    r.attendance(conn, 26, "S1", "2024-03-01 12:30:00+08", event="check_out")      # ok: exactly +30 min
    r.attendance(conn, 27, "S1", "2024-03-01 12:30:01+08", event="check_out")      # fires
    r.attendance(conn, 28, "S_CANCEL", "2024-03-02 09:10+08")                      # fires: cancelled session
    r.attendance(conn, 29, "S_MISSING", "2024-03-02 02:00+08")                     # unknown session: no
    r.attendance(conn, 30, "S_NOINST", "2024-03-04 08:29:59+08")                   # fires, district 310000
    r.attendance(conn, 31, "S1", "2024-03-01 10:00+08", event="heartbeat")         # unknown event: no

    # AGE_OUT_OF_RANGE: C_SUB starts 2024-03-01
    for tid, birth in [("T16", "2008-03-01"), ("T15", "2008-03-02"), ("T64", "1959-03-02"), ("T65", "1959-03-01")]:
        r.trainee(conn, tid, birth)
        r.enrollment(conn, "E" + tid[1:], "C_SUB", tid)
    r.enrollment(conn, "E_UNKCLASS", "C_MISSING", "T15")                          # unknown class: no
    r.enrollment(conn, "E_NOINST", "C_NOINST", "T15")                              # fires, district 310000
    r.enrollment(conn, "E_UNKTRAINEE", "C_SUB", "T_MISSING")                       # unknown trainee: no

    # INVALID_ID_NUMBER, trainees
    r.trainee(conn, "T_OK")
    r.trainee(conn, "T_BADCHECK", check_ok=False)                                  # fires
    r.enrollment(conn, "E_BC1", "C_SUB", "T_BADCHECK", "2024-02-01 10:00+08")
    r.enrollment(conn, "E_BC2", "C2", "T_BADCHECK", "2024-01-01 10:00+08")         # earliest: INS2 310115
    r.trainee(conn, "T_BADFMT", format_ok=False, id_birth=None, check_ok=False,
              updated="2024-02-29 23:30+00")                                       # fires, no enrollment
    r.trainee(conn, "T_BADDATE", id_birth=None)                                    # fires: not a real date
    r.trainee(conn, "T_1899", id_birth="1899-12-31")                               # fires
    r.trainee(conn, "T_1900", id_birth="1900-01-01")                               # ok
    r.trainee(conn, "T_FUTURE", id_birth=TODAY + dt.timedelta(days=1))             # fires
    r.trainee(conn, "T_TODAY", id_birth=TODAY)                                     # ok

    # assessment
    r.org(conn, "ORG1", "310106")
    r.exam(conn, "X1", "ORG1")
    r.result(conn, "R_OK", "X1", 85, "85.0", "合格")
    r.result(conn, "R_BADCHECK", "X1", 70, 70, "合格", check_ok=False)            # INVALID_ID, 310106
    r.result(conn, "R_BADFMT", "X_MISSING", 70, 70, "合格", format_ok=False, id_birth=None, check_ok=False,
             recorded="2024-03-03 01:00+08")                                       # INVALID_ID, 310000
    # SCORE_FLAG_MISMATCH
    r.result(conn, "R60P", "X1", 60, 60, "合格")                                   # ok
    r.result(conn, "R599", "X1", 59.9, 80, "合格")                                 # fires
    r.result(conn, "R_MISS", "X1", None, 80, "不合格")                             # fires: missing score
    r.result(conn, "R100", "X1", "100.0", 100, "合格")                             # ok
    r.result(conn, "R1005", "X1", 100.5, 80, "合格")                               # fires
    r.result(conn, "R_NEG", "X1", -1, 50, "不合格")                                # fires
    r.result(conn, "R_FAIL60", "X1", 60, 60, "不合格")                             # fires
    r.result(conn, "R_FAIL599", "X1", 59.9, 60, "不合格")                          # ok
    r.result(conn, "R_NOEXAM", "X_MISSING", None, 70, "不合格", recorded="2024-03-03 10:00+08")  # fires, 310000
    r.result(conn, "R_NOREC", "X1", 70, None, "合格", recorded=None)               # fires; exam's date


EXPECTED: dict[str, dict[str, str]] = {   # rule -> {entity_key: district}
    "WEAK_IDENTITY": {"2": "310105", "3": "310105", "4": "310105", "5": "310105", "8": "310104"},
    "ATTENDANCE_OUTSIDE_WINDOW": {"21": "310105", "22": "310105", "24": "310105", "27": "310105",
                                  "28": "310105", "30": "310000"},
    "SESSION_ODD_HOURS": {"OH_0659": "310105", "OH_2201": "310105", "OH_8H1S": "310105",
                          "OH_NEXTDAY": "310105", "OH_NOEND": "310105"},
    "AGE_OUT_OF_RANGE": {"E15": "310104", "E65": "310104", "E_NOINST": "310000"},
    "INVALID_ID_NUMBER": {"T_BADCHECK": "310115", "T_BADFMT": "310000", "T_BADDATE": "310000",
                          "T_1899": "310000", "T_FUTURE": "310000",
                          "R_BADCHECK": "310106", "R_BADFMT": "310000"},
    "SCORE_FLAG_MISMATCH": {"R599": "310106", "R_MISS": "310106", "R1005": "310106", "R_NEG": "310106",
                            "R_FAIL60": "310106", "R_NOEXAM": "310000", "R_NOREC": "310106"},
}


@pytest.fixture(scope="module")
def flagged(module_warehouse, module_gx_dir):
    with psycopg.connect(module_warehouse) as conn:
        load_scenario(conn)
    counts = run_record_flags(module_warehouse, "run-1", thresholds=dict(RULE_DEFAULTS), gx_dir=module_gx_dir)
    with psycopg.connect(module_warehouse) as conn:
        found = conn.execute("select rule_code, entity_type, entity_key, district_code, occurred_on, evidence, run_id"
                             " from ops.gx_rule_findings").fetchall()
        validations = conn.execute("select suite, kind, success, summary, data_docs_path"
                                   " from ops.gx_validation_results where run_id = 'run-1'").fetchall()
    return counts, found, validations


def findings_of(found, rule):
    return {f[2]: f[3] for f in found if f[0] == rule}


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_rule_flags_exactly_the_injected_positives(flagged, rule):
    counts, found, _ = flagged
    assert findings_of(found, rule) == EXPECTED[rule]
    assert counts[rule] == len(EXPECTED[rule])


def test_counts_cover_all_six_rules_and_nothing_else(flagged):
    counts, found, _ = flagged
    assert set(counts) == set(EXPECTED)
    assert {f[0] for f in found} <= set(EXPECTED)
    assert all(f[6] == "run-1" for f in found)


def test_gx_unexpected_count_equals_findings_inserted_per_suite(flagged):
    _, found, validations = flagged
    flags = [v for v in validations if v[1] == "flags"]
    assert len(flags) == 7  # INVALID_ID_NUMBER has two populations
    per_rule: dict[str, int] = {}
    for suite, _kind, success, summary, docs in flags:
        assert summary["consistent"] is True, suite
        assert summary["gx_unexpected_count"] == summary["findings_inserted"], suite
        n = sum(1 for f in found if f[0] == summary["rule_code"] and f[1] == summary["entity_type"])
        assert summary["gx_unexpected_count"] == n, suite
        per_rule[summary["rule_code"]] = per_rule.get(summary["rule_code"], 0) + n
        assert success is (n == 0)
        assert docs and docs.endswith(".html")
    assert per_rule == {rule: len(keys) for rule, keys in EXPECTED.items()}


def test_entity_types_and_local_dates(flagged):
    _, found, _ = flagged
    by_key = {(f[0], f[2]): f for f in found}
    assert by_key[("SESSION_ODD_HOURS", "OH_0659")][1] == "session"
    assert by_key[("SESSION_ODD_HOURS", "OH_0659")][4] == dt.date(2024, 3, 5)      # local, not UTC (03-04)
    assert by_key[("WEAK_IDENTITY", "2")][1] == "attendance"
    assert by_key[("ATTENDANCE_OUTSIDE_WINDOW", "30")][4] == dt.date(2024, 3, 4)
    assert by_key[("AGE_OUT_OF_RANGE", "E15")][1] == "enrollment"
    assert by_key[("AGE_OUT_OF_RANGE", "E15")][4] == dt.date(2024, 3, 1)           # the class's start_date
    assert by_key[("INVALID_ID_NUMBER", "T_BADCHECK")][1] == "trainee"
    assert by_key[("INVALID_ID_NUMBER", "T_BADCHECK")][4] == dt.date(2024, 1, 1)   # earliest enrollment
    assert by_key[("INVALID_ID_NUMBER", "T_BADFMT")][4] == dt.date(2024, 3, 1)     # updated_at, local
    assert by_key[("INVALID_ID_NUMBER", "R_BADCHECK")][1] == "result"
    assert by_key[("SCORE_FLAG_MISMATCH", "R_NOREC")][4] == dt.date(2024, 3, 2)    # the exam's start
    assert by_key[("SCORE_FLAG_MISMATCH", "R_NOEXAM")][4] == dt.date(2024, 3, 3)


def test_evidence_holds_the_compared_figures(flagged):
    _, found, _ = flagged
    ev = {(f[0], f[2]): f[5] for f in found}
    assert ev[("WEAK_IDENTITY", "3")] == {"event": "check_in", "method": "card", "face_score": None}
    assert ev[("WEAK_IDENTITY", "2")]["face_score"] == 0.749
    assert ev[("AGE_OUT_OF_RANGE", "E65")] == {"age": 65, "class_start_date": "2024-03-01"}
    assert ev[("ATTENDANCE_OUTSIDE_WINDOW", "21")]["captured_at"] == "2024-03-01T08:29:59"
    assert ev[("SESSION_ODD_HOURS", "OH_8H1S")]["hours"] == 8.0
    assert ev[("SCORE_FLAG_MISMATCH", "R_MISS")] == {"theory_score": None, "practical_score": 80,
                                                     "passed": "不合格"}
    assert ev[("INVALID_ID_NUMBER", "T_1899")]["birth_date"] == "1899-12-31"


def test_data_docs_are_built(flagged, module_gx_dir):
    index = module_gx_dir / "data_docs" / "index.html"
    assert index.is_file()
    html = index.read_text(encoding="utf-8")
    assert "flags_weak_identity" in html
    pages = list((module_gx_dir / "data_docs" / "validations" / "flags_weak_identity").rglob("*.html"))
    assert pages
