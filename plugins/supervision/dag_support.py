"""What every DAG file shares: default arguments, tags, Assets, and failure callbacks.

DAG files import only this module and ``airflow`` at the top level; everything heavy is imported
inside tasks, so parsing a DAG file does no I/O.
"""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable

from supervision.config import settings

RAW_TRAINING = Asset("supervision://warehouse/raw_training", group="raw")
RAW_VIDEO = Asset("supervision://warehouse/raw_video", group="raw")
RAW_ASSESSMENT = Asset("supervision://warehouse/raw_assessment", group="raw")
MARTS = Asset("supervision://warehouse/marts", group="marts")
SUPERVISION_ALERTS = Asset("supervision://warehouse/marts/supervision_alerts", group="marts")

INGEST_DAG_IDS = ("ingest_training_platform", "ingest_video_logs", "ingest_assessments")
# how often the marts run checks that the day's ingestion runs are done, and how long it waits
INGEST_POKE_SECONDS = 30
INGEST_WAIT_SECONDS = 12 * 3600

WAREHOUSE_CONN_ID = "supervision_warehouse"
TRAINING_DB_CONN_ID = "supervision_training_db"

DEFAULT_ARGS = {
    "owner": "supervision",
    "retries": 3,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


def start_date() -> pendulum.DateTime:
    """Where every DAG's schedule starts: 2024-01-01, local midnight (the settings' time zone)."""
    return pendulum.datetime(2024, 1, 1, tz=settings().local_tz)


def daily_timetable() -> CronDataIntervalTimetable:
    """The schedule of every DAG: one run per business day D (the settings' time zone).

    A data-interval timetable, Airflow 2's meaning of ``@daily``: the run for D has the data
    interval [D hh:00, D+1 hh:00) local, logical date D hh:00, and starts when the interval has
    ended, at ``SUPERVISION_DAILY_RUN_HOUR`` (hh) of D+1, after D has closed. ``local_day()`` reads
    D from the interval, so a scheduled run, a backfill, a cleared run and ``supervision run`` agree.
    """
    s = settings()
    return CronDataIntervalTimetable(f"0 {s.daily_run_hour} * * *", timezone=s.local_tz)


def local_day(context) -> str:
    """The business day (the settings' time zone, YYYY-MM-DD) a DAG run is for: the local date of
    its data interval's start (see ``daily_timetable``). Never the clock: a run without a data
    interval is an error, not today."""
    start = context.get("data_interval_start")
    if start is None:
        raise ValueError(f"run {context.get('run_id')} has no data interval: every supervision DAG runs "
                         "on daily_timetable(); trigger it with a logical date")
    return pendulum.instance(start).in_timezone(settings().local_tz).to_date_string()


def local_day_template() -> str:
    """``local_day()`` as a Jinja template, for templated operator fields (dbt's ``vars``)."""
    return "{{ data_interval_start.in_timezone('" + settings().local_tz + "').to_date_string() }}"


def publish_day(context, *assets: Asset) -> str:
    """Stamp the business day on the Asset events this task emits (``extra.business_day``), so a
    consumer of the raw Assets knows which day an update is for; returns the day."""
    day = local_day(context)
    for asset in assets:
        context["outlet_events"][asset].extra = {"business_day": day}
    return day


def warehouse_url() -> str:
    """The warehouse URL inside a task. The Airflow connection ``supervision_warehouse`` (which Cosmos
    uses) is built from the same setting, so both always point at one warehouse."""
    return settings().warehouse_url()


def dbt_vars() -> dict[str, str]:
    """dbt vars for Cosmos' ``operator_args``: the settings' (the local time zone) and ``run_date``,
    the run's business day (templated; ``macros/incremental_window.sql``)."""
    return {**settings().dbt_vars(), "run_date": local_day_template()}


def run_id_of(context) -> str:
    return str(context["run_id"])


def consumers_after_producer(group) -> None:
    """Cosmos watcher mode: one producer task runs `dbt build`, a sensor per model reports its result.

    In a DbtTaskGroup the sensors do not wait for the producer; under ``DAG.test()`` (tasks run one
    at a time, in no fixed order) a sensor that starts first would wait forever for a build that
    never starts. Ordering the group's root sensors after the producer makes the run deterministic
    everywhere; a failed producer then fails its sensors as upstream_failed, with the dbt error in the
    producer's log."""
    producer = next(t for t in group.get_roots() if t.task_id.endswith("dbt_producer_watcher"))
    for root in group.get_roots():
        if root is not producer:
            producer >> root
