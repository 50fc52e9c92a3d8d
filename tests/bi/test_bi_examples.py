"""The example questions of docs/BI.md run, as supervision_bi, and answer what they say (on stand-in marts;
tests/bi/test_bi_answers.py checks them on marts dbt builds)."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import psycopg

from supervision.access import BI_ROLE
from tests.bi.conftest import connect_as

BI_MD = Path(__file__).resolve().parents[2] / "docs" / "BI.md"


def sql_blocks() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", BI_MD.read_text(), re.S)


def _seed(url: str) -> None:
    now = datetime(2024, 3, 10, tzinfo=timezone.utc)
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("""insert into marts.district_target_progress values
            ('310000', '2024-03-01', 'subsidised_training', 60000, 150000, 800000, 18.75),
            ('310101', '2024-03-01', 'subsidised_training', 1000, 4000, null, null),
            ('310115', '2024-03-01', 'subsidised_training', 9000, 20000, null, null)""")
        c.execute("""insert into marts.institution_scorecard values
            ('I1', '310104', '2024-03-01', 40, 70.0, 5, 2, 0, 16.5, 'D'),
            ('I2', '310104', '2024-03-01', 40, 99.0, 0, 0, 1, 0.1, 'A'),
            ('I3', '310115', '2024-02-01', 10, 50.0, 9, 0, 0, 90.0, 'D')""")
        c.execute("""insert into marts.evaluation_org_quality values
            ('E1', '310104', 'employer', '2024-03-01', 2, 60, 59, 0.9833, 0.6, 1, 0, 1, 0),
            ('E2', '310104', 'college', '2024-03-01', 1, 30, 20, 0.6667, 0.65, 0, 0, 0, 0)""")
        for key, district, rule, severity in (("S1", "310104", "HEADCOUNT_SHORTFALL", "high"),
                                              ("X1", "310104", "ABNORMAL_PASS_RATE", "medium")):
            c.execute("""insert into marts.supervision_alerts (alert_id, rule_code, severity, entity_type, entity_key,
                         district_code, occurred_on, evidence, first_detected_at, last_detected_at)
                         values (%s, %s, %s, 'session', %s, %s, '2024-03-05', %s, %s, %s)""",
                      (key, rule, severity, key, district, json.dumps({"n": 1}), now, now))


def test_bi_md_has_the_questions_and_they_run_as_the_bi_role(synced_warehouse):
    blocks = sql_blocks()
    assert len(blocks) >= 6
    _seed(synced_warehouse)
    with connect_as(BI_ROLE, synced_warehouse) as bi:
        results = []
        for sql in blocks:
            cur = bi.execute(sql)
            cols = [d.name for d in cur.description]
            results.append([dict(zip(cols, r, strict=True)) for r in cur.fetchall()])
    behind, graded_d, d_alerts, orgs, exams, precision = results[:6]
    # 1: 310101 (4,000 of an even share of 12,500) is behind, 310115 (20,000) is not
    assert [(r["district_code"], float(r["pct_of_even_share"])) for r in behind] == [("310101", 32.0),
                                                                                   ("310115", 160.0)]
    # 2: only I1 is graded D in the latest month; its district has one open high alert that month
    assert [(r["institution_id"], r["district_open_high_alerts"]) for r in graded_d] == [("I1", 1)]
    assert [r["entity_key"] for r in d_alerts] == ["S1"]
    # 3: the org with the ABNORMAL_PASS_RATE alert, and its exam session
    assert [r["org_id"] for r in orgs] == ["E1"]
    assert [r["exam_id"] for r in exams] == ["X1"]
    # 4: no verdicts in the stand-in
    assert precision == []
