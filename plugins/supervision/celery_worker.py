"""The Celery workers' configuration: Airflow's, plus the platform's modules imported once per worker.

An Airflow Celery worker runs each task in a process forked from one of its pool's processes, and
those are forked from the worker itself. What the worker has imported before its pool starts is
therefore already in memory in every task process. Without it, each task process imports again
the modules of the DAG file it parses (Cosmos, the package) and of the task (dbt and its Postgres
adapter for a dbt build, Great Expectations for the gates and record flags): 2-5 s per task, paid
by every task of every night. ``preload`` imports them in the worker once, on Celery's
``worker_init`` signal (the worker's own process, before the pool forks); the scheduler and
api-server, which import this module for the configuration only, never receive that signal.

``[celery] celery_config_options = supervision.celery_worker.CELERY_CONFIG`` selects it
(``supervision.airflow_env`` sets it with the CeleryExecutor; docker/ sets it too);
``SUPERVISION_WORKER_PRELOAD=false`` turns the preloading off (a worker with little memory: the
modules then live in each task process only while it runs). Decision 0046 has the measurements.
"""
from __future__ import annotations

import importlib
import logging
import time
from typing import Any

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import worker_init

log = logging.getLogger(__name__)

# Airflow's Celery configuration (broker, result backend, queues), unchanged
CELERY_CONFIG: dict[str, Any] = dict(DEFAULT_CELERY_CONFIG)

# what the DAG files and their tasks import, heaviest first; all import without side effects
# (no thread, socket or file is opened), so they are safe to hold across a fork
PRELOADED = (
    "great_expectations",
    "dbt.cli.main",
    "dbt.adapters.postgres",
    "cosmos.operators.local",
    "supervision.dag_support",
    "supervision.dbt_tasks",
    "supervision.dbt_profile",
    "supervision.quality",
    "supervision.quality.gates",
    "supervision.quality.flags",
    "supervision.alerts.upkeep",
    "supervision.ingest.training",
    "supervision.ingest.video",
    "supervision.ingest.assessment",
    "supervision.warehouse",
)


def preload() -> list[str]:
    """Import ``PRELOADED`` (unless the setting is off); returns the modules imported."""
    from supervision.config import settings

    if not settings().worker_preload:
        log.info("worker preload off (SUPERVISION_WORKER_PRELOAD): each task imports its modules")
        return []
    started, done = time.monotonic(), []
    for name in PRELOADED:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception:  # noqa: BLE001 - a module that fails here fails in its task, with the task's log
            log.exception("worker preload: %s not imported", name)
    log.info("worker preload: %d modules imported in %.1f s before the pool starts: %s", len(done),
             time.monotonic() - started, ", ".join(done))
    return done


@worker_init.connect
def _on_worker_init(**_: Any) -> None:
    preload()
