"""The monthly report's DAG, run for real (``DAG.test()`` on a SQLite metadata database): the run
of 2 April 2024, 06:00 Shanghai, mails the March reports to the addresses of the settings, and its
schedule is 06:00 on the 2nd of every month, local time."""
from __future__ import annotations

import json
import sys
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from tests.conftest import airflow_home_with_db
from tests.review.seed import PUDONG
from tests.test_airflow_guards import _airflow_env, _run

pytestmark = pytest.mark.slow  # not in `make test-fast` (real dbt builds, services or subprocesses)

REPO = Path(__file__).resolve().parents[2]
DAG_FILE = REPO / "dags" / "supervision_monthly_report.py"

# appended to a copy of the DAG file (whose last line makes the DAG), so the run's DAG is the file's
RUN = r"""
if __name__ == "__main__":
    import pendulum
    from airflow.timetables.base import TimeRestriction

    d = supervision_monthly_report()
    first = d.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=TimeRestriction(
        earliest=pendulum.datetime(2024, 3, 5, tz="Asia/Shanghai"), latest=None, catchup=True))
    print("FIRST " + first.logical_date.in_timezone("Asia/Shanghai").isoformat())
    run = d.test(logical_date=pendulum.datetime(2024, 4, 2, 6, tz="Asia/Shanghai"))
    print("RUN STATE " + str(run.state))
"""


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory, migrated_airflow_db) -> Path:
    return airflow_home_with_db(tmp_path_factory.mktemp("report_airflow"), migrated_airflow_db)


def test_the_dag_mails_last_months_reports(airflow_home, seeded, smtp_sink, tmp_path):
    handler, port = smtp_sink
    env = _airflow_env(airflow_home, airflow_home / "dags", {
        "SUPERVISION_WAREHOUSE_URL": seeded["url"], "SUPERVISION_SMTP_PORT": str(port),
        "SUPERVISION_DISTRICT_EMAILS": json.dumps({PUDONG: "pudong@test"})})
    script = airflow_home / "dags" / DAG_FILE.name
    script.write_text(DAG_FILE.read_text(encoding="utf-8") + "\n" + RUN, encoding="utf-8")
    out = _run([sys.executable, str(script)], env, timeout=600)
    assert "FIRST 2024-04-02T06:00:00+08:00" in out
    assert "RUN STATE success" in out, out[-3000:]
    assert [m.rcpt_tos for m in handler.messages] == [["pudong@test"]]
    msg = message_from_bytes(handler.messages[0].content, policy=default_policy)
    assert "2024年3月" in msg["Subject"]
    assert sorted(p.get_filename() for p in msg.iter_attachments()) == [
        f"supervision_report_{PUDONG}_2024-03.pdf", f"supervision_report_{PUDONG}_2024-03.xlsx"]
