"""The business day D of a run: one timetable for every DAG, D from the data interval (never the
clock), the same logical date and interval from `supervision run` as from the scheduler, and D in
dbt's environment."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pendulum
import pytest

from tests.conftest import REPO


@pytest.fixture
def hour(monkeypatch) -> int:
    """A run hour other than the default (settings() follows the environment)."""
    monkeypatch.setenv("SUPERVISION_DAILY_RUN_HOUR", "3")
    monkeypatch.setenv("SUPERVISION_LOCAL_TZ", "Asia/Shanghai")
    return 3


def test_every_daily_dag_file_runs_on_the_daily_timetable():
    daily = [p for p in sorted((REPO / "dags").glob("*.py")) if p.stem != "supervision_monthly_report"]
    assert len(daily) == 4
    for path in daily:
        text = path.read_text(encoding="utf-8")
        assert len(re.findall(r"^\s*\*\*daily_schedule\(\),$", text, re.M)) == 1, path.name
        assert not re.findall(r"^\s*schedule=", text, re.M), f"{path.name} sets its own schedule"
    from supervision.dag_support import DEFAULT_ARGS, daily_schedule, daily_timetable

    shared = daily_schedule()
    assert shared["schedule"] == daily_timetable() and shared["max_active_runs"] == 1
    assert shared["default_args"] is DEFAULT_ARGS


def test_the_run_for_day_d_starts_at_the_run_hour_of_d_plus_1(hour):
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    from supervision.config import settings
    from supervision.dag_support import daily_timetable

    tz = settings().local_tz
    table = coerce_to_core_timetable(daily_timetable())
    earliest = pendulum.datetime(2024, 3, 1, tz=tz)
    info = table.next_dagrun_info(last_automated_data_interval=None,
                                  restriction=TimeRestriction(earliest=earliest, latest=None, catchup=True))
    assert info.logical_date == pendulum.datetime(2024, 3, 1, hour, tz=tz)
    assert info.data_interval.start == info.logical_date
    assert info.data_interval.end == pendulum.datetime(2024, 3, 2, hour, tz=tz)
    assert info.run_after == info.data_interval.end  # after D has closed


def test_local_day_reads_the_data_interval_never_the_clock(hour):
    from supervision.dag_support import local_day

    start = pendulum.datetime(2024, 3, 1, hour, tz="Asia/Shanghai").in_timezone("UTC")  # 2024-02-29 19:00Z
    assert local_day({"data_interval_start": start, "run_id": "r"}) == "2024-03-01"
    with pytest.raises(ValueError, match="no data interval"):
        local_day({"data_interval_start": None, "logical_date": pendulum.now(), "run_id": "asset_triggered"})


def test_dbt_gets_the_day_through_its_environment(hour):
    """The marts DAG's dbt builds get D as SUPERVISION_DBT_RUN_DATE (macros/incremental_window.sql),
    rendered from the run's data interval; the vars stay the same every day (partial parsing)."""
    import jinja2

    from supervision.dbt_profile import profile_config
    from supervision.dbt_tasks import RUN_DATE_ENV, DailyDbtBuild

    op = DailyDbtBuild(task_id="probe", part="models", project_dir=Path("dbt_project"),
                       profile_config=profile_config("supervision_warehouse"))
    assert op.vars == {"local_timezone": "Asia/Shanghai"}
    start = pendulum.datetime(2024, 3, 1, hour, tz="Asia/Shanghai").in_timezone("UTC")
    assert jinja2.Template(op.env[RUN_DATE_ENV]).render(data_interval_start=start) == "2024-03-01"
    macro = Path(__file__).resolve().parents[1] / "dbt_project" / "macros" / "incremental_window.sql"
    assert f"env_var('{RUN_DATE_ENV}'" in macro.read_text()


def test_supervision_run_gives_a_run_the_scheduler_logical_date_and_interval(hour):
    from airflow.sdk import DAG
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    from supervision.dag_support import daily_timetable, start_date
    from supervision.pipeline import day_interval

    dag = DAG("probe", schedule=daily_timetable(), start_date=start_date())
    logical, interval = day_interval(dag, date(2024, 3, 1))
    scheduled = coerce_to_core_timetable(dag.timetable).next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=pendulum.datetime(2024, 3, 1, tz="Asia/Shanghai"), latest=None,
                                    catchup=True))
    assert logical == scheduled.logical_date
    assert (interval.start, interval.end) == tuple(scheduled.data_interval)
