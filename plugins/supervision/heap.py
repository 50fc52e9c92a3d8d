"""What Python's cyclic garbage collector traverses while the heavy tasks run.

A ``supervision run`` process holds a large, long-lived heap (Airflow, its in-process execution
API, dbt, GX, pandas: 2-3 million tracked objects by the marts' tasks), and its heaviest tasks
allocate quickly (dbt's manifest, GX's context). CPython collects the oldest generation whenever the
objects promoted since its last full collection exceed a quarter of the survivors of that
collection, and a full collection traverses every tracked object: a small day paid 14-15 of them,
up to 0.7 s each, 4.5-4.8 s a day, and Cosmos adds an explicit ``gc.collect()`` after every dbt
invocation (decision 0060).

- ``frozen_heap()`` moves every object alive when a task starts to the permanent generation
  (``gc.freeze()``) and back when it ends (``gc.unfreeze()``): the task's collections, Cosmos' one
  included, traverse only what the task allocated. Freezing does not change what is freed by
  reference counting; a cycle that becomes garbage while frozen is collected by the first full
  collection after the task. Nested uses freeze and unfreeze once, on the outermost.
- ``startup_heap()`` turns automatic collection off while a process starts (imports, the
  environment, the DAG parse, the in-process execution API), when almost nothing allocated is
  garbage and each full collection of a growing heap re-traverses all of it (9-10 of them, 1.4 s);
  at its end it freezes what the start built and turns collection back on. The startup objects
  return to the collector when the first ``frozen_heap()`` ends; the startup's own garbage cycles,
  if any, are collected then too.
"""
from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Collections inside traverse only the objects allocated inside (see the module's text)."""
    global _depth
    with _lock:
        _depth += 1
        if _depth == 1:
            gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()


@contextlib.contextmanager
def startup_heap() -> Iterator[None]:
    """A process's start (imports, the environment, the DAG parse): no automatic collection inside;
    at the end what it built is frozen and collection resumes (see the module's text)."""
    was_on = gc.isenabled()
    gc.disable()
    started = False
    try:
        yield
        started = True
    finally:
        # a start that failed freezes nothing: no task would return its objects to the collector
        with _lock:
            if started and _depth == 0:
                gc.freeze()
        if was_on:
            gc.enable()
