"""ops.gx_rule_findings holds the latest run's findings only; thresholds change the findings."""
from __future__ import annotations

import psycopg
import pytest

from supervision.quality import RULE_DEFAULTS, run_record_flags
from tests.quality import rows as r

pytestmark = pytest.mark.slow  # not in `make test-fast` (real dbt builds, services or subprocesses)


def test_rerun_replaces_findings_and_follows_thresholds(warehouse_db, tmp_path):
    with psycopg.connect(warehouse_db) as conn:
        r.institution(conn, "INS1", "310104")
        r.klass(conn, "C1", "INS1", "2024-03-01")
        r.session(conn, "S1", "C1", "SITE_X", "2024-03-01 09:00+08", "2024-03-01 12:00+08")
        r.attendance(conn, 1, "S1", "2024-03-01 09:00+08", score=0.7)
        r.attendance(conn, 2, "S1", "2024-03-01 09:00+08", score=0.78)
    gx = tmp_path / "gx"
    first = run_record_flags(warehouse_db, "run-1", thresholds=dict(RULE_DEFAULTS), gx_dir=gx)
    assert first["WEAK_IDENTITY"] == 1 and first.docs_path and first.docs_path.is_file()

    with psycopg.connect(warehouse_db) as conn:          # the source corrects row 1
        conn.execute("update raw_training.attendance set face_score = 0.95 where attendance_id = 1")
    stricter = {**RULE_DEFAULTS, "face_min_score": 0.8}  # and the bureau raises the bar
    second = run_record_flags(warehouse_db, "run-2", thresholds=stricter, gx_dir=gx)
    assert second["WEAK_IDENTITY"] == 1
    with psycopg.connect(warehouse_db) as conn:
        rows = conn.execute("select entity_key, run_id, district_code from ops.gx_rule_findings").fetchall()
        history = conn.execute("select run_id, count(*) from ops.gx_validation_results where kind = 'flags'"
                               " group by run_id order by run_id").fetchall()
    assert rows == [("2", "run-2", "310104")]
    assert history == [("run-1", 7), ("run-2", 7)]
