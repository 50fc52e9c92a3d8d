"""The day-order waits (supervision.run_waits): what each wait does with each state of the run it
waits for, and that its trigger survives the triggerer's round trip (serialize, re-create).

The waits through the real scheduler, triggerer and Celery workers: tests/test_scheduler_and_celery.py.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from supervision.dag_support import PreviousDayMarts, wait_for_ingest
from supervision.run_waits import ABSENT, FAILED, SUCCEEDED, WAITING, RunStateTrigger, _done, run_state

DAY = datetime(2024, 1, 2, 18, tzinfo=timezone.utc)


def counts(state: str | None, calls: list | None = None):
    """A run store holding one run of ``marts`` at DAY in ``state`` (None: no run); each call is
    appended to ``calls``."""
    def get_dr_count(dag_id, logical_dates, states=None):
        assert logical_dates == [DAY]
        if calls is not None:
            calls.append(states)
        if state is None or dag_id != "marts":
            return 0
        return int(states is None or state in states)
    return get_dr_count


@pytest.mark.parametrize("state, expected", [(None, ABSENT), ("queued", WAITING), ("running", WAITING),
                                             ("success", SUCCEEDED), ("failed", FAILED)])
def test_run_state_reads_the_runs_state(state, expected):
    assert run_state(counts(state), "marts", DAY) == expected


@pytest.mark.parametrize("state", ["queued", "running"])
def test_a_waiting_run_costs_one_call_a_check(state):
    calls: list = []
    assert run_state(counts(state, calls), "marts", DAY) == WAITING
    assert len(calls) == 1, calls


def test_each_wait_ends_on_its_own_states():
    ingest = wait_for_ingest("ingest_video_logs")
    previous = PreviousDayMarts()
    assert ingest.task_id == "wait_for_ingest_video_logs" and previous.task_id == "wait_for_previous_marts"
    done = {w.task_id: {s for s in (ABSENT, WAITING, SUCCEEDED, FAILED)
                        if _done(s, w.absent_is_done, w.fail_on_failed)} for w in (ingest, previous)}
    # the marts wait for a load that has not run yet, and end (failing) on a failed load;
    # an ingestion run goes on without a previous marts run and waits on a failed one
    assert done == {"wait_for_ingest_video_logs": {SUCCEEDED, FAILED},
                    "wait_for_previous_marts": {SUCCEEDED, ABSENT}}


def test_the_trigger_is_recreated_from_what_it_serializes():
    trigger = RunStateTrigger("supervision_marts", DAY.isoformat(), 5.0, absent_is_done=True, fail_on_failed=False)
    path, kwargs = trigger.serialize()
    module, _, name = path.rpartition(".")
    again = getattr(__import__(module, fromlist=[name]), name)(**kwargs)
    assert again.serialize() == (path, kwargs)
