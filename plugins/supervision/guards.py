"""Production guards of the DAGs: the data engineers' failure mail, the marts deadline, the heavy-work pool.

- ``EngineerNotifier``: an Airflow notifier (``airflow.sdk.BaseNotifier``) that mails the data
  engineers (``SUPERVISION_ENGINEER_EMAILS``) through the notifications' SMTP server when a task
  fails for good (retries spent) or a DAG run fails (a ``dagrun_timeout`` included).
- ``MartsDayDeadline``: a custom Deadline Alert reference (registered by ``supervision_plugin.py``):
  a marts run triggered on local day D+1 (it carries day D) is due by
  ``SUPERVISION_MARTS_DEADLINE_HOUR`` o'clock of D+1; ``marts_deadline_missed`` mails the engineers
  from the triggerer when it is not done by then.
- ``ensure_pool``: the pool ``supervision_warehouse_heavy`` that bounds heavy warehouse work.

Nothing here connects anywhere at import time (the plugin and every DAG file import it).
"""
from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from airflow.sdk import BaseNotifier
from airflow.sdk.definitions.callback import AsyncCallback
from airflow.sdk.definitions.deadline import BaseDeadlineReference, DeadlineAlert

from supervision.config import settings

log = logging.getLogger(__name__)

WAREHOUSE_HEAVY_POOL = "supervision_warehouse_heavy"


# --- mail to the data engineers ------------------------------------------------------------------
def send_engineer_mail(subject: str, body: str) -> bool:
    """Mail the data engineers; False (and a warning) when no address is configured."""
    s = settings()
    to = s.engineer_addresses
    if not to:
        log.warning("SUPERVISION_ENGINEER_EMAILS not set, not mailed: %s", subject)
        return False
    msg = EmailMessage()
    msg["From"] = s.smtp_sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="supervision.local")
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as smtp:
        smtp.send_message(msg)
    return True


def failure_mail(context: Any) -> tuple[str, str]:
    """Subject and body of a failure mail from an Airflow callback context (task or DAG run)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag_id = getattr(dag_run, "dag_id", None) or getattr(ti, "dag_id", None) or "?"
    run_id = getattr(dag_run, "run_id", None) or context.get("run_id") or "?"
    task_id = getattr(ti, "task_id", None) if ti is not None and "reason" not in context else None
    what = f"{dag_id}.{task_id}" if task_id else dag_id
    reason = context.get("reason")
    subject = f"[supervision] FAILED {what} ({run_id})" + (f": {reason}" if reason else "")
    lines = [f"DAG: {dag_id}", f"run: {run_id}"]
    if task_id:
        lines += [f"task: {task_id}", f"try: {getattr(ti, 'try_number', '?')}"]
        if getattr(ti, "map_index", -1) not in (-1, None):
            lines.append(f"map index: {ti.map_index}")
    if reason:
        lines.append(f"reason: {reason}")
    exc = context.get("exception")
    if exc is not None:
        lines += ["", f"error: {type(exc).__name__}: {exc}"]
    log_url = getattr(ti, "log_url", None) if task_id else None
    if log_url:
        lines += ["", f"log: {log_url}"]
    lines += ["", "Rerun the failed task or day once the cause is fixed (docs/DEPLOYMENT.md)."]
    return subject, "\n".join(lines)


class EngineerNotifier(BaseNotifier):
    """Mail the data engineers about a failed task or DAG run.

    On a DAG (``on_failure_callback`` of the DAG) it mails only for runs that failed for another
    reason than a task failure (a ``dagrun_timeout``, a deadlock): the task's own callback has
    already mailed about a failed task."""

    template_fields = ()

    def __init__(self, *, dag_level: bool = False):
        super().__init__()
        self.dag_level = dag_level

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render (no template fields). BaseNotifier would build a Jinja environment from
        the context's DAG, which under ``DAG.test()`` is a SerializedDAG without one
        (AttributeError: no attribute 'get_template_env'), so the DAG's failure mail never went."""

    def notify(self, context: Any) -> None:
        if self.dag_level and context.get("reason") == "task_failure":
            return
        subject, body = failure_mail(context)
        send_engineer_mail(subject, body)


# --- the marts deadline --------------------------------------------------------------------------
def _utcnow() -> datetime:
    from datetime import timezone

    return datetime.now(timezone.utc)


def marts_day_start(run_after: datetime, deadline_hour: int | None = None,
                    now: datetime | None = None) -> datetime | None:
    """The local midnight that begins the day a marts run was triggered on (D+1 for day D), or None
    when that day's deadline hour has already passed as the run is created: a catch-up, rerun or
    backfill (whose runs may carry a past ``run_after``), not a night's run. A night whose ingestion
    overran is reported by the ingest runs' timeouts and failure mail."""
    import pendulum

    hour = settings().marts_deadline_hour if deadline_hour is None else deadline_hour
    local = pendulum.instance(run_after).in_timezone(settings().local_tz)
    start = local.start_of("day")
    if (now or _utcnow()) >= start.add(hours=hour):
        return None
    return start.in_timezone("UTC")


class MartsDayDeadline(BaseDeadlineReference):
    """Deadline reference of the marts DAG: the local midnight beginning the day its run was
    triggered on; the alert's interval (``SUPERVISION_MARTS_DEADLINE_HOUR`` hours) makes it that
    day's deadline hour."""

    required_kwargs = {"dag_id", "run_id"}

    def _evaluate_with(self, *, session: Any, **kwargs: Any) -> datetime | None:
        from airflow.models.dagrun import DagRun
        from sqlalchemy import select

        run = session.scalar(select(DagRun).where(DagRun.dag_id == kwargs["dag_id"],
                                                  DagRun.run_id == kwargs["run_id"]))
        if run is None or run.run_after is None:
            return None
        return marts_day_start(run.run_after)


async def marts_deadline_missed(context: Any = None, **kwargs: Any) -> None:
    """Deadline Alert callback (runs in the triggerer): mail the engineers that the marts run is late."""
    import asyncio

    import pendulum

    hour = settings().marts_deadline_hour
    dag_run = (context or {}).get("dag_run") or {}  # the API's DAG run (JSON), as the scheduler sends it
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") if isinstance(dag_run, dict) else None
    deadline = (context or {}).get("deadline") or {}
    due = deadline.get("deadline_time") if isinstance(deadline, dict) else None
    if isinstance(due, str):
        due = pendulum.parse(due)
    if isinstance(due, datetime):
        due = pendulum.instance(due).in_timezone(settings().local_tz).to_datetime_string()
    subject = f"[supervision] LATE supervision_marts ({run_id or '?'}): not done by {hour:02d}:00"
    body = "\n".join([
        f"The marts run {run_id or '?'} was not done by {hour:02d}:00 local time"
        + (f" (due {due})." if due else "."),
        "Day D's alerts and marts are not published yet: look at the run in the Airflow UI.",
    ])
    await asyncio.to_thread(send_engineer_mail, subject, body)


def marts_deadline() -> DeadlineAlert:
    """The marts DAG's Deadline Alert (``deadline=`` of the DAG)."""
    return DeadlineAlert(reference=MartsDayDeadline(),
                         interval=timedelta(hours=settings().marts_deadline_hour),
                         callback=AsyncCallback(marts_deadline_missed),
                         name="marts_done_by_deadline_hour")


# --- the pool ------------------------------------------------------------------------------------
def ensure_pool() -> None:
    """Create or resize the heavy-work pool in Airflow's metadata database (idempotent)."""
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(
        WAREHOUSE_HEAVY_POOL, slots=settings().warehouse_heavy_slots,
        description="heavy warehouse work: video loads and attaches, GX gates and flags, dbt builds",
        include_deferred=False)
