"""supervision.heap: what the cyclic collector traverses while a task runs, and while a process starts."""
from __future__ import annotations

import gc
import weakref

import pytest

from supervision.heap import frozen_heap, startup_heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture(autouse=True)
def _unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.enable()


def test_a_task_collects_its_own_garbage_not_the_heap_before_it() -> None:
    before = _Node()
    before_ref = weakref.ref(before)
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        del before
        inside = _Node()
        inside_ref = weakref.ref(inside)
        del inside
        gc.collect()
        assert inside_ref() is None            # the task's own cycle is collected inside
        assert before_ref() is not None        # the frozen one is not traversed
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert before_ref() is None                # nor leaked: collected once the task ends


def test_nested_uses_freeze_and_unfreeze_once() -> None:
    with frozen_heap():
        with frozen_heap():
            pass
        assert gc.get_freeze_count() > 0       # the inner end leaves the outer's freeze
    assert gc.get_freeze_count() == 0


def test_frozen_heap_unfreezes_when_the_task_fails() -> None:
    with pytest.raises(RuntimeError), frozen_heap():
        raise RuntimeError("task failed")
    assert gc.get_freeze_count() == 0


def test_the_start_is_not_collected_and_is_frozen_at_its_end() -> None:
    with startup_heap():
        assert not gc.isenabled()
        started = _Node()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    ref = weakref.ref(started)
    with frozen_heap():                        # the first task's end returns the start's objects
        pass
    assert gc.get_freeze_count() == 0
    del started
    gc.collect()
    assert ref() is None


def test_a_failed_start_freezes_nothing_and_collects_again() -> None:
    with pytest.raises(RuntimeError), startup_heap():
        raise RuntimeError("the warehouse did not start")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_start_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    with startup_heap():
        pass
    assert not gc.isenabled()
