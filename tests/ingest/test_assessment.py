"""Assessment exports: encodings, header mapping, normalisation, quarantine, latest delivery wins."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg

from supervision.ingest.assessment import load_assessments
from supervision.pii import id_checks, mask_id, person_key

from .conftest import PII_KEY, audit_rows, fingerprints, quarantine_reasons, text_outside_pii, write_csv

ID_A, ID_B, ID_BAD = "11010519491231002X", "440524188001010014", "110105194912310021"
SH = ZoneInfo("Asia/Shanghai")


def results_csv(rows: list[str], header: str = "實操成績,姓名,成績編號,是否合格,身份證號,理論成績,錄入時間,考試批次號") -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


def fetch(url: str, sql: str, *args) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, args).fetchall()


def test_gb18030_file_in_another_column_order_with_faults(warehouse_db, landing):
    rows = [
        f"８５,張三,R1,合格,{ID_A},90.5,2024-03-01 10:00,E1",       # 2: full-width digits
        f" 7 2 ,李四,R2,不合格,{ID_B}, 55 ,2024-03-01 10:00:30,E1",  # 3: stray spaces
        "",                                                          # 4: blank
        f"60,王五,R3,合格,{ID_BAD},,2024-03-01 10:00,E1",           # 5: empty score -> NULL, bad check digit
        f"abc,趙六,R4,合格,{ID_A},80,2024-03-01 10:00,E1",           # 6: non-numeric score
        f"70,錢七,R5,合格,{ID_A},80,2024/03/01 10:00,E1",            # 7: wrong time format
        f"70,孫八,R6,合格,{ID_A},80,2024-03-01 10:00",               # 8: too few columns
        f"70,周九,R7,合格,{ID_A},80,2024-03-01 10:00,E1,extra",      # 9: too many columns
        f"130,吳十,R8,合格,{ID_B},-5,2024-03-01 10:00,E1",           # 10: out of range: loaded
        f"61,張三,R1,合格,{ID_A},90.5,2024-03-01 10:00,E1",          # 11: R1 again: the later line wins
        ",,,,,,,",                                                   # 12: a line of empty cells: blank
    ]
    write_csv(landing, "2024-03-01", "exam_results.csv", results_csv(rows), "gb18030")
    summary = load_assessments(landing, warehouse_db, "run-1", PII_KEY)
    r = summary["results"][0]
    assert r["status"] == "loaded"
    assert (r["received"], r["loaded"], r["duplicates"], r["quarantined"], r["skipped"]) == (11, 4, 1, 4, 2)
    assert {loc: reason for (_, loc), reason in quarantine_reasons(warehouse_db, "assessment").items()} == {
        "6": "not_numeric:practical_score", "7": "bad_datetime:recorded_at",
        "8": "too_few_columns", "9": "too_many_columns"}
    got = {row[0]: row[1:] for row in fetch(
        warehouse_db, "select result_id, exam_id, theory_score, practical_score, passed, recorded_at, person_key,"
        " id_masked, id_format_ok, id_check_ok, line_no from raw_assessment.exam_results")}
    assert set(got) == {"R1", "R2", "R3", "R8"}
    assert got["R1"][1:4] == (Decimal("90.5"), Decimal("61"), "合格")
    assert got["R1"][4] == datetime(2024, 3, 1, 10, 0, tzinfo=SH) and got["R1"][9] == 11
    assert got["R2"][1:5] == (Decimal("55"), Decimal("72"), "不合格", datetime(2024, 3, 1, 10, 0, 30, tzinfo=SH))
    assert got["R3"][1] is None and got["R3"][7:9] == (True, False)
    assert got["R8"][1:3] == (Decimal("-5"), Decimal("130"))
    assert got["R1"][5:7] == (person_key(ID_A, PII_KEY), mask_id(ID_A))
    assert fetch(warehouse_db, "select id_number, name from pii.exam_candidates where result_id = 'R1'") == [(ID_A, "張三")]
    # No plain ID number or name outside pii.*, the quarantine included.
    assert text_outside_pii(warehouse_db, [ID_A, ID_B, ID_BAD, "張三", "趙六", "孫八", "周九"]) == []
    assert fetch(warehouse_db, "select count(*) from pii.quarantine_raw") == [(4,)]
    [audit] = audit_rows(warehouse_db, "assessment")
    assert "gb18030" in audit["message"]


def test_utf8_bom_and_simplified_headers_and_lists(warehouse_db, landing):
    orgs = ("\ufeff机构编号,机构名称,机构类型,所在区,备案职业,备案日期,有效期至\n"
            "ORG1,上海評價中心,社會評價組織,３１０１０４,4-10-01-05; 6-20-01-01 ;,2023-01-01,2026-12-31\n"
            "ORG2,某院校,院校,310115,,2023-02-01,20261231\n")
    write_csv(landing, "2024-03-01", "evaluation_orgs.csv", orgs)
    sessions = ("考試批次號,機構編號,職業編碼,等級,開始時間,結束時間,考評員,報名人數\n"
                "E1,ORG1,4-10-01-05,４,2024-03-01 09:00,2024-03-01  11:30,A1;A2,30\n")
    write_csv(landing, "2024-03-01", "exam_sessions.csv", sessions, "utf-8")
    certs = ("證書編號,成績編號,身份證號,姓名,職業編碼,等級,發證日期,機構編號\n"
             f"C1,,{ID_A},張三,4-10-01-05,4,2024-03-10,ORG1\n")
    write_csv(landing, "2024-03-01", "certificates.csv", certs, "utf-8-sig")
    summary = load_assessments(landing, warehouse_db, "run-1", PII_KEY)
    assert summary["failed_files"] == [] and summary["loaded"] == 3 and summary["quarantined"] == 1
    assert fetch(warehouse_db, "select org_id, district_code, occupation_codes, kind from raw_assessment.evaluation_orgs") == \
        [("ORG1", "310104", ["4-10-01-05", "6-20-01-01"], "社會評價組織")]
    assert quarantine_reasons(warehouse_db, "assessment") == {
        ("assessment/date=2024-03-01/evaluation_orgs.csv", "3"): "bad_date:valid_to"}
    assert fetch(warehouse_db, "select skill_level, assessor_ids, registered, ends_at from raw_assessment.exam_sessions") == \
        [(4, ["A1", "A2"], 30, datetime(2024, 3, 1, 11, 30, tzinfo=SH))]
    assert fetch(warehouse_db, "select result_id, person_key, issued_on from raw_assessment.certificates") == \
        [(None, person_key(ID_A, PII_KEY), date(2024, 3, 10))]
    assert fetch(warehouse_db, "select id_number, name from pii.certificate_holders") == [(ID_A, "張三")]
    assert id_checks(ID_A)[2]


def test_latest_delivery_wins_even_when_an_older_folder_is_loaded_late(warehouse_db, landing):
    header = "成績編號,考試批次號,身份證號,姓名,理論成績,實操成績,是否合格,錄入時間"
    write_csv(landing, "2024-03-01", "exam_results.csv",
              f"{header}\nR1,E1,{ID_A},張三,50,50,不合格,2024-03-01 10:00\n")
    write_csv(landing, "2024-03-02", "exam_results.csv",
              f"{header}\nR1,E1,{ID_A},張三,70,70,合格,2024-03-02 10:00\n")
    load_assessments(landing, warehouse_db, "run-1", PII_KEY, day=date(2024, 3, 2))
    assert fetch(warehouse_db, "select passed, delivery_date from raw_assessment.exam_results") == \
        [("合格", date(2024, 3, 2))]
    # A late file lands in the older folder (a new name, loaded after the newer delivery).
    write_csv(landing, "2024-03-01", "exam_results_late.csv",
              f"{header}\nR1,E1,{ID_B},李四,10,10,不合格,2024-03-01 12:00\nR2,E1,{ID_B},李四,80,80,合格,2024-03-01 12:00\n")
    # ... but with a name the contract does not know: recorded as a failed file.
    s = load_assessments(landing, warehouse_db, "run-2", PII_KEY, day=date(2024, 3, 3))
    assert s["failed_files"] == ["assessment/date=2024-03-01/exam_results_late.csv"]
    # The contract's own name, delivered late into the old folder of another day:
    write_csv(landing, "2024-02-29", "exam_results.csv",
              f"{header}\nR1,E1,{ID_B},李四,10,10,不合格,2024-02-29 12:00\nR2,E1,{ID_B},李四,80,80,合格,2024-02-29 12:00\n")
    s = load_assessments(landing, warehouse_db, "run-3", PII_KEY, day=date(2024, 3, 3))
    assert (s["files"], s["received"], s["loaded"], s["duplicates"]) == (1, 2, 1, 1)
    assert fetch(warehouse_db, "select result_id, passed, delivery_date from raw_assessment.exam_results order by 1") == \
        [("R1", "合格", date(2024, 3, 2)), ("R2", "合格", date(2024, 2, 29))]
    # The plain identity follows the winning version.
    assert fetch(warehouse_db, "select result_id, id_number from pii.exam_candidates order by 1") == \
        [("R1", ID_A), ("R2", ID_B)]
    # A rerun of everything changes nothing.
    before = fingerprints(warehouse_db, ("raw_assessment", "pii", "ops"))
    assert load_assessments(landing, warehouse_db, "run-4", PII_KEY)["files"] == 0
    assert fingerprints(warehouse_db, ("raw_assessment", "pii", "ops")) == before


def test_the_daily_org_snapshot_rewrites_only_the_orgs_that_changed(warehouse_db, landing):
    """evaluation_orgs.csv is a full snapshot every day: an org delivered again unchanged keeps its row
    (and `_loaded_at`, which the incremental models read as "changed"); a changed org is rewritten."""
    write_csv(landing, "2024-03-01", "evaluation_orgs.csv", ORGS_SIMPLIFIED)
    load_assessments(landing, warehouse_db, "run-1", PII_KEY, day=date(2024, 3, 1))
    stamps = "select org_id, name, delivery_date, _loaded_at from raw_assessment.evaluation_orgs order by 1"
    before = fetch(warehouse_db, stamps)
    # the next day's snapshot: ORG2 renamed, ORG1 and ORG3 unchanged
    write_csv(landing, "2024-03-02", "evaluation_orgs.csv",
              ORGS_SIMPLIFIED.replace("上海某有限公司职业技能等级认定站", "上海某有限公司技能等级认定站"))
    s = load_assessments(landing, warehouse_db, "run-2", PII_KEY, day=date(2024, 3, 2))
    assert (s["received"], s["loaded"], s["duplicates"]) == (3, 1, 2)
    after = fetch(warehouse_db, stamps)
    assert after[0] == before[0] and after[2] == before[2]
    assert after[1][1:3] == ("上海某有限公司技能等级认定站", date(2024, 3, 2)) and after[1][3] > before[1][3]


def test_a_header_without_a_required_column_quarantines_every_row(warehouse_db, landing):
    write_csv(landing, "2024-03-01", "exam_sessions.csv", "考試批次號,機構編號\nE1,ORG1\nE2,ORG1\n")
    s = load_assessments(landing, warehouse_db, "run-1", PII_KEY)
    assert s["failed_files"] == ["assessment/date=2024-03-01/exam_sessions.csv"]
    assert (s["received"], s["quarantined"], s["loaded"]) == (2, 2, 0)
    assert set(quarantine_reasons(warehouse_db, "assessment").values()) == {"missing_columns"}


ORGS_SIMPLIFIED = ("机构编号,机构名称,机构类型,所在区,备案职业,备案日期,有效期至\n"
                   "ORG1,上海技能评价中心,社会评价组织,310104,4-10-01-05,2023-01-01,2026-12-31\n"
                   "ORG2,上海某有限公司职业技能等级认定站,用人单位,310115,6-31-01-03,2023-02-01,2026-12-31\n"
                   "ORG3,上海某职业技术学院,院校,310112,,2023-03-01,2026-12-31\n")
ORGS_TRADITIONAL = ("機構編號,機構名稱,機構類型,所在區,備案職業,備案日期,有效期至\n"
                    "ORG4,上海技能評價中心,社會評價組織,310104,4-10-01-05,2023-01-01,2026-12-31\n"
                    "ORG5,上海某有限公司職業技能等級認定站,用人單位,310115,,2023-02-01,2026-12-31\n")
RESULTS_SIMPLIFIED = ("成绩编号,考试批次号,身份证号,姓名,理论成绩,实操成绩,是否合格,录入时间\n"
                      f"R1,E1,{ID_A},张三,80,75,合格,2024-03-01 10:00\n")
RESULTS_TRADITIONAL = ("成績編號,考試批次號,身份證號,姓名,理論成績,實操成績,是否合格,錄入時間\n"
                       f"R2,E1,{ID_B},李四,50,75,不合格,2024-03-01 10:05\n")
SESSIONS_SIMPLIFIED = ("考试批次号,机构编号,职业编码,等级,开始时间,结束时间,考评员,报名人数\n"
                       "E1,ORG1,4-10-01-05,4,2024-03-01 09:00,2024-03-01 11:30,A1;A2,30\n")


def _kinds(url: str) -> dict[str, str]:
    return dict(fetch(url, "select org_id, kind from raw_assessment.evaluation_orgs order by 1"))


def test_simplified_traditional_and_mixed_days_load_alike(warehouse_db, landing):
    """SOURCES.md, "Script": headers and enumerations in either script, even among one day's files;
    the kind is kept in one form (the contract table's), the header's script is in the audit."""
    from supervision.ingest.assessment import header_script

    # a Simplified day, a Traditional day, and a day that mixes the two across its files
    write_csv(landing, "2024-03-01", "evaluation_orgs.csv", ORGS_SIMPLIFIED, "utf-8")
    write_csv(landing, "2024-03-01", "exam_sessions.csv", SESSIONS_SIMPLIFIED, "utf-8")
    write_csv(landing, "2024-03-01", "exam_results.csv", RESULTS_SIMPLIFIED, "gb18030")
    write_csv(landing, "2024-03-02", "evaluation_orgs.csv", ORGS_TRADITIONAL, "utf-8")
    write_csv(landing, "2024-03-02", "exam_results.csv", RESULTS_TRADITIONAL, "utf-8")
    write_csv(landing, "2024-03-03", "evaluation_orgs.csv", ORGS_TRADITIONAL + ORGS_SIMPLIFIED.split("\n", 1)[1]
              .replace("ORG1", "ORG6").replace("ORG2", "ORG7").replace("ORG3", "ORG8"), "utf-8")
    write_csv(landing, "2024-03-03", "exam_results.csv", RESULTS_SIMPLIFIED.replace("R1,", "R3,"), "utf-8-sig")
    s = load_assessments(landing, warehouse_db, "run-1", PII_KEY)
    assert s["failed_files"] == [] and s["quarantined"] == 0
    assert _kinds(warehouse_db) == {
        "ORG1": "社會評價組織", "ORG2": "用人單位", "ORG3": "院校", "ORG4": "社會評價組織", "ORG5": "用人單位",
        "ORG6": "社會評價組織", "ORG7": "用人單位", "ORG8": "院校"}
    assert fetch(warehouse_db, "select result_id, theory_score, practical_score, passed from raw_assessment.exam_results "
                               "order by 1") == [("R1", Decimal("80"), Decimal("75"), "合格"),
                                                 ("R2", Decimal("50"), Decimal("75"), "不合格"),
                                                 ("R3", Decimal("80"), Decimal("75"), "合格")]
    assert fetch(warehouse_db, "select exam_id, org_id, registered from raw_assessment.exam_sessions") == [("E1", "ORG1", 30)]
    # names are data: kept in the script they arrived in
    assert fetch(warehouse_db, "select name from raw_assessment.evaluation_orgs where org_id in ('ORG1', 'ORG4') "
                               "order by org_id") == [("上海技能评价中心",), ("上海技能評價中心",)]
    scripts = {a["message"].split("; ")[1] for a in audit_rows(warehouse_db, "assessment")}
    assert scripts == {"headers simplified", "headers traditional"}
    assert header_script(["機構編號", "机构名称", "姓名"]) == "mixed" and header_script(["姓名", "是否合格"]) == "neutral"
    # staging reads one kind whatever the script (the raw value is the contract table's form)
    assert {k for k in _kinds(warehouse_db).values()} <= {"社會評價組織", "用人單位", "院校"}


def test_a_header_mixing_scripts_in_one_row_is_read(warehouse_db, landing):
    """A header whose cells mix the two scripts (an office's hand-edited export) maps all the same."""
    write_csv(landing, "2024-03-01", "exam_results.csv",
              "成績編號,考试批次号,身份證號,姓名,理论成绩,實操成績,是否合格,录入时间\n"
              f"R1,E1,{ID_A},张三,80,75,合格,2024-03-01 10:00\n", "utf-8")
    s = load_assessments(landing, warehouse_db, "run-1", PII_KEY)
    assert s["failed_files"] == [] and s["loaded"] == 1
    [audit] = audit_rows(warehouse_db, "assessment")
    assert "headers mixed" in audit["message"]
