"""A small, realistic warehouse for the review app's tests, screenshots and demos.

Pudong (310115) runs a class with sessions, cameras, check-ins and a claim; Huangpu (310101) has an
evaluation org whose exam passes everyone with identical scores; a batch of further alerts spreads
over districts and rules for filters and paging."""
from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta, timezone

import psycopg

TZ = timezone(timedelta(hours=8))
PUDONG, HUANGPU, XUHUI = "310115", "310101", "310104"
SESSION = "S-PD-0001"
CLAIM = "CL-PD-0001"
EXAM = "EX-HP-0100"
PLAIN_ID = "310115199001011234"   # lives only in pii.*: must never appear on a page


def alert_id(rule: str, key: str) -> str:
    import hashlib

    return hashlib.sha256(f"{rule}|{key}".encode()).hexdigest()[:20]


def add_alert(conn, rule: str, severity: str, etype: str, key: str, district: str, occurred: date,
              evidence: dict, status: str = "open", active: bool = True, detected: datetime | None = None) -> str:
    aid = alert_id(rule, key)
    detected = detected or datetime(2024, 4, 2, 3, 0, tzinfo=TZ)
    conn.execute(
        "insert into marts.supervision_alerts (alert_id, rule_code, severity, entity_type, entity_key, district_code,"
        " occurred_on, evidence, first_detected_at, last_detected_at, is_active, status)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (aid, rule, severity, etype, key, district, occurred, json.dumps(evidence), detected, detected, active, status))
    return aid


def seed(url: str, extra_alerts: int = 60) -> dict:
    """Fill raw tables and alerts; returns the ids the tests use."""
    now = datetime(2024, 3, 1, tzinfo=TZ)
    with psycopg.connect(url) as conn:
        x = conn.execute
        x("insert into raw_training.occupations values ('6-01-01', '电工', 'manufacturing', true, %s)", (now,))
        x("insert into raw_training.institutions values ('INS-PD-01', '浦东新区技能培训学校', '91310115MA1', 'private',"
          " %s, '2020-01-01', '2026-12-31', %s)", (PUDONG, now))
        x("insert into raw_training.sites values ('SITE-PD-01', 'INS-PD-01', %s, '浦东新区张江路1号', true, %s)", (PUDONG, now))
        x("insert into raw_training.cameras values ('CAM-1', 'SITE-PD-01', '2023-01-01', %s), "
          "('CAM-2', 'SITE-PD-01', '2023-01-01', %s)", (now, now))
        x("insert into raw_training.classes values ('CLS-PD-01', 'INS-PD-01', '6-01-01', 4, 'standard', true, 12.0,"
          " '2024-03-04', '2024-03-20', 'running', %s)", (now,))
        s1 = datetime(2024, 3, 5, 9, 0, tzinfo=TZ)
        for sid, start in ((SESSION, s1), ("S-PD-0002", s1 + timedelta(days=1)), ("S-PD-0003", s1 + timedelta(days=2))):
            x("insert into raw_training.sessions values (%s, 'CLS-PD-01', 'SITE-PD-01', %s, %s, 'onsite', 'held', %s)",
              (sid, start, start + timedelta(hours=3), now))
        att_id = 1
        for i in range(1, 9):
            tid = f"T-{i:03d}"
            x("insert into raw_training.trainees values (%s, %s, %s, true, '1990-01-01', true, 'F', '1990-01-01', true, %s)",
              (tid, f"pk{i:03d}", f"310115********{1230 + i}", now))
            x("insert into pii.trainees values (%s, %s, %s, null, %s)",
              (tid, PLAIN_ID if i == 1 else f"31011519900101{1230 + i}", f"学员{i}", now))
            x("insert into raw_training.enrollments values (%s, 'CLS-PD-01', %s, %s, 'enrolled', null, %s)",
              (f"E-{i:03d}", tid, now, now))
            x("insert into raw_training.attendance values (%s, %s, %s, 'check_in', 'face', 'DEV-9', %s, 0.91, %s)",
              (att_id, SESSION, tid, s1 + timedelta(minutes=2, seconds=3 * i), now))
            att_id += 1
        # T-001 attends session 1 for 1.5 h only, and nothing else: 1.5 of 12 planned hours
        x("insert into raw_training.attendance values (%s, %s, 'T-001', 'check_out', 'face', 'DEV-9', %s, 0.9, %s)",
          (att_id, SESSION, s1 + timedelta(minutes=90), now))
        x("insert into raw_training.subsidy_claims values (%s, 'E-001', 'T-001', null, 1200.00, %s, 'submitted', %s)",
          (CLAIM, datetime(2024, 3, 21, 10, tzinfo=TZ), now))
        # video: CAM-1 online with a heartbeat each minute until 10:30, then offline; CAM-2 silent.
        import uuid

        events = [(str(uuid.uuid4()), "CAM-1", s1 - timedelta(minutes=5), "status", "online", None, None, None)]
        for k in range(0, 90):
            t = s1 + timedelta(minutes=k)
            events.append((str(uuid.uuid4()), "CAM-1", t, "headcount", None, 4 + (k // 30), None, None))
        events.append((str(uuid.uuid4()), "CAM-1", s1 + timedelta(minutes=90), "status", "offline", None, None, None))
        for i in range(2, 9):
            events.append((str(uuid.uuid4()), "CAM-1", s1 + timedelta(minutes=10 + i), "face", None, None,
                           f"T-{i:03d}", 0.9))
        with conn.cursor() as c:
            c.executemany("insert into raw_video.events (event_id, camera_id, ts, type, state, count, trainee_id, score,"
                          " local_date, file_id, line_no) values (%s, %s, %s, %s, %s, %s, %s, %s, '2024-03-05', 1, 1)",
                          events)
        # assessment: ORG-HP-01 (Huangpu); a baseline of 120 results at 55 %, then an exam where all 20 pass
        x("insert into raw_assessment.evaluation_orgs values ('ORG-HP-01', '黄浦职业技能评价中心', '社會評價組織', %s,"
          " array['6-01-01'], '2022-01-01', null, '2024-01-01', 1, 1)", (HUANGPU,))
        rnd = random.Random(7)
        for e in range(4):
            eid = f"EX-HP-00{e}"
            st = datetime(2024, 1, 10 + e, 9, tzinfo=TZ)
            x("insert into raw_assessment.exam_sessions values (%s, 'ORG-HP-01', '6-01-01', 4, %s, %s, array['AS-1'], 30,"
              " '2024-01-20', 1, 1)", (eid, st, st + timedelta(hours=3)))
            for r in range(30):
                th = rnd.randint(35, 95)
                x("insert into raw_assessment.exam_results values (%s, %s, %s, '310101********0000', true, null, true,"
                  " %s, %s, %s, null, '2024-01-20', 1, 1)",
                  (f"R-{eid}-{r}", eid, f"pkx{e}{r}", th, rnd.randint(40, 95), "合格" if th >= 60 else "不合格"))
        st = datetime(2024, 4, 1, 9, tzinfo=TZ)
        x("insert into raw_assessment.exam_sessions values (%s, 'ORG-HP-01', '6-01-01', 4, %s, %s, array['AS-1','AS-2'],"
          " 20, '2024-04-01', 1, 1)", (EXAM, st, st + timedelta(hours=3)))
        for r in range(20):
            x("insert into raw_assessment.exam_results values (%s, %s, %s, '310101********0001', true, null, true,"
              " 88, 90, '合格', null, '2024-04-01', 1, 1)", (f"R-{EXAM}-{r}", EXAM, f"pky{r}"))

        ids = {
            "headcount": add_alert(conn, "HEADCOUNT_SHORTFALL", "high", "session", SESSION, PUDONG, date(2024, 3, 5),
                                   {"checked_in": 8, "max_headcount": 6}),
            "camera": add_alert(conn, "CAMERA_DOWN", "medium", "session", SESSION, PUDONG, date(2024, 3, 5),
                                {"minutes": 180, "uncovered_minutes": 90}),
            "claim": add_alert(conn, "INSUFFICIENT_HOURS", "high", "claim", CLAIM, PUDONG, date(2024, 3, 21),
                               {"attended_hours": 1.5, "planned_hours": 12}),
            "face": add_alert(conn, "FACE_NOT_SEEN", "high", "session_trainee", f"{SESSION}|T-001", PUDONG,
                              date(2024, 3, 5), {"face_events": 7}),
            "exam": add_alert(conn, "ABNORMAL_PASS_RATE", "medium", "exam", EXAM, HUANGPU, date(2024, 4, 1),
                              {"n": 20, "pass_rate": 1.0, "baseline": 0.55}),
            "identical": add_alert(conn, "IDENTICAL_SCORES", "medium", "exam", EXAM, HUANGPU, date(2024, 4, 1),
                                   {"n": 20, "top_pair_share": 1.0}),
        }
        rules = [("CHECKIN_BURST", "medium", "session"), ("WEAK_IDENTITY", "low", "attendance"),
                 ("OUT_OF_SCOPE_CLASS", "medium", "class"), ("SCORE_FLAG_MISMATCH", "low", "result"),
                 ("DUPLICATE_SUBSIDY", "high", "claim")]
        districts = [PUDONG, HUANGPU, XUHUI, "310106"]
        for i in range(extra_alerts):
            rule, sev, et = rules[i % len(rules)]
            add_alert(conn, rule, sev, et, f"X-{i:04d}", districts[i % len(districts)],
                      date(2024, 3, 1) + timedelta(days=i % 28), {"i": i},
                      status="confirmed" if i % 7 == 0 else "open", active=i % 11 != 0,
                      detected=datetime(2024, 4, 2, 3, 0, tzinfo=TZ) + timedelta(minutes=i))
        conn.commit()
    return ids
