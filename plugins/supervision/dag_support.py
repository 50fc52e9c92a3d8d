"""What every DAG file shares: default arguments, tags, Assets, and failure callbacks.

DAG files import only this module and ``airflow`` at the top level; everything heavy is imported
inside tasks, so parsing a DAG file does no I/O.
"""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset

from supervision.config import settings

RAW_TRAINING = Asset("supervision://warehouse/raw_training", group="raw")
RAW_VIDEO = Asset("supervision://warehouse/raw_video", group="raw")
RAW_ASSESSMENT = Asset("supervision://warehouse/raw_assessment", group="raw")
MARTS = Asset("supervision://warehouse/marts", group="marts")
SUPERVISION_ALERTS = Asset("supervision://warehouse/marts/supervision_alerts", group="marts")

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


def local_day(context) -> str:
    """The business day (the settings' time zone, YYYY-MM-DD) a DAG run is for: its logical date's local date.

    ``supervision run`` and the scheduler both give a run the local midnight of its day (UTC-stamped)
    as logical date, so this is stable under retries and backfills."""
    # An Asset-triggered run has no logical date: it is for the local day it runs after.
    logical = context.get("logical_date") or context["dag_run"].run_after
    return pendulum.instance(logical).in_timezone(settings().local_tz).to_date_string()


def warehouse_url() -> str:
    """The warehouse URL inside a task. The Airflow connection ``supervision_warehouse`` (which Cosmos
    uses) is built from the same setting, so both always point at one warehouse."""
    return settings().warehouse_url()


def dbt_vars() -> dict[str, str]:
    """dbt vars from the settings (the local time zone), for Cosmos' ``operator_args``."""
    return settings().dbt_vars()


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
