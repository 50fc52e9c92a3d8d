"""What every DAG file shares: default arguments, tags, Assets, timeouts, the pool, failure callbacks.

DAG files import only this module and ``airflow`` at the top level; everything heavy is imported
inside tasks, so parsing a DAG file does no I/O.
"""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable

from supervision.config import settings
from supervision.guards import WAREHOUSE_HEAVY_POOL, EngineerNotifier, marts_deadline
from supervision.run_waits import WaitForRun

RAW_TRAINING = Asset("supervision://warehouse/raw_training", group="raw")
RAW_VIDEO = Asset("supervision://warehouse/raw_video", group="raw")
RAW_ASSESSMENT = Asset("supervision://warehouse/raw_assessment", group="raw")
MARTS = Asset("supervision://warehouse/marts", group="marts")
SUPERVISION_ALERTS = Asset("supervision://warehouse/marts/supervision_alerts", group="marts")

INGEST_DAG_IDS = ("ingest_training_platform", "ingest_video_logs", "ingest_assessments")
MARTS_DAG_ID = "supervision_marts"
# how often a waiting run checks again (the marts run for its day's ingestion, an ingestion run for
# the previous day's marts; SUPERVISION_SENSOR_POKE_SECONDS), and how long it waits
INGEST_POKE_SECONDS = settings().sensor_poke_seconds
INGEST_WAIT_SECONDS = 12 * 3600

WAREHOUSE_CONN_ID = "supervision_warehouse"
TRAINING_DB_CONN_ID = "supervision_training_db"

# Time limits, sized in docs/decisions/0029-timeouts-pool-failure-mail-deadline.md from a city-scale day
# (bench_daily: training 14.5 s, video 17 s, marts 290 s of which the dbt build 169 s) and the first
# day's initial load of a quarter (173 s at 0.01 scale): 10-40 times the largest measured figure.
TASK_TIMEOUT = timedelta(minutes=30)          # default: any task not listed below
LOAD_TIMEOUT = timedelta(hours=1)             # video batches and attach, training pull (initial loads)
GX_TIMEOUT = timedelta(hours=1)               # GX gates and record flags (a full flags re-check)
DBT_TIMEOUT = timedelta(hours=2)              # each of the marts DAG's two dbt builds
SHORT_TIMEOUT = timedelta(minutes=10)         # roles and grants, notification mail
INGEST_DAGRUN_TIMEOUT = timedelta(hours=3)
MARTS_DAGRUN_TIMEOUT = timedelta(hours=6)

HEAVY_POOL = WAREHOUSE_HEAVY_POOL

DEFAULT_ARGS = {
    "owner": "supervision",
    "retries": 3,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": TASK_TIMEOUT,
    "on_failure_callback": EngineerNotifier(),
}

# DAG-level guards: the run's time limit and the engineers' mail when a run fails for another
# reason than a failed task (which mails by itself), e.g. its dagrun_timeout
INGEST_DAG_GUARDS = {"dagrun_timeout": INGEST_DAGRUN_TIMEOUT,
                     "on_failure_callback": EngineerNotifier(dag_level=True)}


def without_deadline_in_dag_test(dag):
    """``dag.test()`` (``supervision run``, ``airflow dags test``) without the DAG's Deadline Alerts.

    Airflow 3.3's ``DAG.test()`` cannot finish a run of a DAG that has one: its in-process copy of
    the DAG holds the alerts themselves where the scheduler's holds their ids, and the success step
    looks them up by id ("cannot adapt type 'dict'"). No scheduler watches deadlines in-process
    anyway; the DAG processor still serializes the alerts for the scheduler."""
    original = dag.test

    def test(*args, **kwargs):
        saved = dag.deadline
        dag.deadline = None
        try:
            return original(*args, **kwargs)
        finally:
            dag.deadline = saved

    dag.test = test
    return dag


def marts_dag_guards() -> dict:
    """The marts DAG's time limit, failure mail, and Deadline Alert (done by the deadline hour)."""
    return {"dagrun_timeout": MARTS_DAGRUN_TIMEOUT, "on_failure_callback": EngineerNotifier(dag_level=True),
            "deadline": marts_deadline()}


def start_date() -> pendulum.DateTime:
    """Where every DAG's schedule starts: ``SUPERVISION_SCHEDULE_START`` (default 2024-01-01), local
    midnight (the settings' time zone)."""
    s = settings()
    first = s.schedule_start
    return pendulum.datetime(first.year, first.month, first.day, tz=s.local_tz)


def end_date() -> pendulum.DateTime | None:
    """Where every DAG's schedule ends, if it does: ``SUPERVISION_SCHEDULE_END``, the end of that
    local day."""
    s = settings()
    last = s.schedule_end
    if last is None:
        return None
    return pendulum.datetime(last.year, last.month, last.day, 23, 59, 59, tz=s.local_tz)


def catchup() -> bool:
    """Whether the daily DAGs catch up from their start date (``SUPERVISION_SCHEDULE_CATCHUP``)."""
    return settings().schedule_catchup


def daily_timetable() -> CronDataIntervalTimetable:
    """The schedule of every DAG: one run per business day D (the settings' time zone).

    A data-interval timetable, Airflow 2's meaning of ``@daily``: the run for D has the data
    interval [D hh:00, D+1 hh:00) local, logical date D hh:00, and starts when the interval has
    ended, at ``SUPERVISION_DAILY_RUN_HOUR`` (hh) of D+1, after D has closed. ``local_day()`` reads
    D from the interval, so a scheduled run, a backfill, a cleared run and ``supervision run`` agree.
    """
    s = settings()
    return CronDataIntervalTimetable(f"0 {s.daily_run_hour} * * *", timezone=s.local_tz)


def daily_schedule() -> dict:
    """What the four daily DAGs share: the timetable, the start and end of the schedule, catch-up,
    one run at a time (the days stay in order), and the tasks' defaults (retries, timeouts)."""
    return {"schedule": daily_timetable(), "start_date": start_date(), "end_date": end_date(),
            "catchup": catchup(), "max_active_runs": 1, "default_args": DEFAULT_ARGS}


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
    """The warehouse URL inside a task, from the Airflow connection ``supervision_warehouse`` (which
    Cosmos uses too), so a secrets backend can supply it. By default the connection comes from
    ``AIRFLOW_CONN_SUPERVISION_WAREHOUSE``, which ``airflow_env`` builds from the settings; without
    any such connection, the settings' URL."""
    return _connection_url(WAREHOUSE_CONN_ID) or settings().warehouse_url()


def training_db_url() -> str:
    """The training platform database's URL inside a task, from the connection ``supervision_training_db``."""
    return _connection_url(TRAINING_DB_CONN_ID) or settings().training_db_url()


def _connection_url(conn_id: str) -> str | None:
    """A PostgreSQL URL (libpq form) from an Airflow connection, or None when no backend has it."""
    from urllib.parse import quote, urlencode

    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    auth = quote(conn.login or "", safe="")
    if conn.password:
        auth += ":" + quote(conn.password, safe="")
    host = conn.host or ""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    netloc = f"{auth}@{host}" if auth else host
    if conn.port:
        netloc += f":{conn.port}"
    extra = {k: str(v) for k, v in (conn.extra_dejson or {}).items()}
    query = f"?{urlencode(extra)}" if extra else ""
    return f"postgresql://{netloc}/{quote(conn.schema or '', safe='')}{query}"


def run_id_of(context) -> str:
    return str(context["run_id"])


def wait_for_ingest(dag_id: str) -> WaitForRun:
    """The marts run of D waits for D's run of the ingestion DAG ``dag_id`` (a failed one fails
    the wait: the marts are not built on a failed load)."""
    return WaitForRun(task_id=f"wait_for_{dag_id}", dag_id=dag_id, absent_is_done=False, fail_on_failed=True,
                      poke_interval=INGEST_POKE_SECONDS, timeout=INGEST_WAIT_SECONDS)


class PreviousDayMarts(WaitForRun):
    """Day D's ingestion starts once day D-1's marts run has succeeded, when D-1 has a marts run.

    So every path runs the days in the order ``supervision run`` does (D's four DAGs before D+1's):
    a backfill would otherwise load D+1 while D's marts still build, and D's rules would see D+1's
    rows. Without a marts run for D-1 (the first day of a deployment, or a day never run) there is
    nothing to wait for. A D-1 that failed keeps D waiting (deferred: no worker slot held) until the
    engineer reruns it or ``timeout`` passes (``supervision.run_waits``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("task_id", "wait_for_previous_marts")
        kwargs.setdefault("poke_interval", INGEST_POKE_SECONDS)
        kwargs.setdefault("timeout", INGEST_WAIT_SECONDS)
        super().__init__(dag_id=MARTS_DAG_ID, absent_is_done=True, fail_on_failed=False, **kwargs)

    def logical_date_of(self, context) -> pendulum.DateTime:
        return previous_logical_date(context)


def previous_logical_date(context) -> pendulum.DateTime:
    """The logical date of the previous business day's runs (``daily_timetable``: one day earlier,
    local time)."""
    start = context.get("data_interval_start")
    if start is None:
        raise ValueError(f"run {context.get('run_id')} has no data interval")
    return pendulum.instance(start).in_timezone(settings().local_tz).subtract(days=1)
