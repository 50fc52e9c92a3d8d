"""The waits that keep every path in ``supervision run``'s day order: a sensor that checks once on
the worker and, when the run it waits for has not ended, hands the waiting to the triggerer.

- ``wait_for_ingest_*`` (marts run of D): D's ingestion run of that DAG has succeeded; a failed one
  fails the wait (the marts of D are not built on a failed load).
- ``wait_for_previous_marts`` (each ingestion run of D): D-1's marts run has succeeded, or D-1 has
  no marts run (the first day of a deployment, a day never run). A failed D-1 keeps D waiting until
  the engineer reruns it or the wait's timeout passes.

Deferrable rather than reschedule mode (docs/decisions/0043-deferrable-waits.md): a waiting task
holds no worker slot and starts no task process per check (on Celery each reschedule poke was a
task process start on the workers), and the reschedule race of short poke intervals is gone: the
scheduler failed a rescheduled sensor whose executor "success" event arrived after the task was
already scheduled again ("task state changed externally", a retry each time). The check is the
same in both places (``run_state``), on the worker through the task's execution API and in the
triggerer through the trigger's, every ``SUPERVISION_SENSOR_POKE_SECONDS``. ``DAG.test()``
(``supervision run``) finds the runs already ended and never defers.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pendulum
from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException
from airflow.triggers.base import BaseTrigger, TriggerEvent

SUCCEEDED, FAILED, ABSENT, WAITING = "succeeded", "failed", "absent", "waiting"


def run_state(get_dr_count: Any, dag_id: str, logical_date: datetime) -> str:
    """Where the run of ``dag_id`` at ``logical_date`` stands: succeeded, failed, absent or waiting
    (queued or running). ``get_dr_count`` is the Task SDK's ``get_dr_count`` (a task instance's or
    ``RuntimeTaskInstance.get_dr_count``): one call of the execution API while the run is waiting,
    the state a wait checks again and again; two or three once it has ended or when it is absent."""
    dates = [logical_date]
    for state, states in ((WAITING, ["queued", "running"]), (SUCCEEDED, ["success"]), (FAILED, ["failed"])):
        if get_dr_count(dag_id=dag_id, logical_dates=dates, states=states):
            return state
    return ABSENT


def _done(state: str, absent_is_done: bool, fail_on_failed: bool) -> bool:
    return state == SUCCEEDED or (state == ABSENT and absent_is_done) or (state == FAILED and fail_on_failed)


class RunStateTrigger(BaseTrigger):
    """Fires once the run of ``dag_id`` at ``logical_date`` (ISO) has succeeded, or is absent when
    ``absent_is_done``, or has failed when ``fail_on_failed``; the event carries the state."""

    def __init__(self, dag_id: str, logical_date: str, poll_seconds: float, absent_is_done: bool,
                 fail_on_failed: bool):
        super().__init__()
        self.dag_id = dag_id
        self.logical_date = logical_date
        self.poll_seconds = poll_seconds
        self.absent_is_done = absent_is_done
        self.fail_on_failed = fail_on_failed

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{__name__}.RunStateTrigger",
                {"dag_id": self.dag_id, "logical_date": self.logical_date, "poll_seconds": self.poll_seconds,
                 "absent_is_done": self.absent_is_done, "fail_on_failed": self.fail_on_failed})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
        from asgiref.sync import sync_to_async

        logical = datetime.fromisoformat(self.logical_date)
        while True:
            state = await sync_to_async(run_state)(RuntimeTaskInstance.get_dr_count, self.dag_id, logical)
            if _done(state, self.absent_is_done, self.fail_on_failed):
                yield TriggerEvent({"state": state})
                return
            self.log.info("%s run of %s %s: checking again in %ss", self.dag_id, self.logical_date, state,
                          self.poll_seconds)
            await asyncio.sleep(self.poll_seconds)


class WaitForRun(BaseSensorOperator):
    """Succeeds when the run of ``dag_id`` that ``logical_date_of(context)`` names has succeeded
    (or is absent, with ``absent_is_done``); fails when it failed (with ``fail_on_failed``). Checks
    once here, then defers to ``RunStateTrigger`` for at most ``timeout`` seconds."""

    def __init__(self, *, dag_id: str, absent_is_done: bool, fail_on_failed: bool, **kwargs: Any):
        super().__init__(**kwargs)
        self.waited_dag_id = dag_id
        self.absent_is_done = absent_is_done
        self.fail_on_failed = fail_on_failed

    def logical_date_of(self, context: Any) -> pendulum.DateTime:
        """The logical date of the run waited for (default: this run's)."""
        return pendulum.instance(context["logical_date"])

    def execute(self, context: Any) -> None:
        logical = self.logical_date_of(context)
        state = run_state(context["ti"].get_dr_count, self.waited_dag_id, logical)
        self.log.info("%s run of %s: %s", self.waited_dag_id, logical, state)
        if _done(state, self.absent_is_done, self.fail_on_failed):
            self._finish(state)
            return
        self.defer(trigger=RunStateTrigger(self.waited_dag_id, logical.isoformat(), float(self.poke_interval),
                                           self.absent_is_done, self.fail_on_failed),
                   method_name="execute_complete", timeout=timedelta(seconds=float(self.timeout)))

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> None:
        self._finish((event or {}).get("state", ""))

    def _finish(self, state: str) -> None:
        if state == FAILED:
            raise AirflowException(f"the {self.waited_dag_id} run this run waits for failed")
        if state not in (SUCCEEDED, ABSENT):
            raise AirflowException(f"unexpected state of the {self.waited_dag_id} run waited for: {state!r}")
