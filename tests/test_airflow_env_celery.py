"""The CeleryExecutor's part of Airflow's environment (supervision.airflow_env), without services:
the broker and result backend behind ``celery_broker_url``, the host a task instance records
(the Celery worker's node name inside a worker, the machine's name elsewhere), and the workers'
configuration (``supervision.celery_worker``: Airflow's own, plus the platform's modules imported
once per worker before its pool forks).
The services themselves: tests/test_scheduler_and_celery.py (slow)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery import Celery
from celery.signals import worker_init

from supervision import celery_worker
from supervision.airflow_env import airflow_environ, task_hostname
from supervision.config import Settings
from tests.conftest import REPO

URL = "postgresql://owner:secret@127.0.0.1:5432/"


def _settings(tmp_path) -> Settings:
    return Settings(home=REPO, var_dir=tmp_path, external_warehouse_url=URL + "warehouse",
                    external_airflow_db_url=URL + "airflow", external_training_db_url=URL + "training")


def test_local_executor_by_default(tmp_path):
    env = airflow_environ(_settings(tmp_path))
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert not [k for k in env if k.startswith("AIRFLOW__CELERY__")]
    assert "AIRFLOW__CORE__HOSTNAME_CALLABLE" not in env


def test_celery_executor_with_a_broker(tmp_path):
    env = airflow_environ(_settings(tmp_path), celery_broker_url="redis://127.0.0.1:6390/0")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6390/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql+psycopg://owner:secret@127.0.0.1:5432/airflow"
    module, name = env["AIRFLOW__CORE__HOSTNAME_CALLABLE"].rsplit(".", 1)
    assert getattr(__import__(module, fromlist=[name]), name) is task_hostname
    module, name = env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"].rsplit(".", 1)
    assert getattr(__import__(module, fromlist=[name]), name) is celery_worker.CELERY_CONFIG


def test_task_hostname_is_the_celery_workers_node_name():
    """As a worker runs a task: the task on Celery's task stack, its request naming the worker."""
    from celery._state import _task_stack

    app = Celery("t", set_as_current=False)

    @app.task
    def where() -> None: ...

    assert task_hostname() == socket.getfqdn()
    where.push_request(hostname="worker9@box")
    _task_stack.push(where)
    try:
        assert task_hostname() == "worker9@box"
    finally:
        _task_stack.pop()
        where.pop_request()
    assert task_hostname() == socket.getfqdn()


PROBE = """
import json, sys
from supervision import celery_worker
before = {m: m in sys.modules for m in celery_worker.PRELOADED}
from celery.signals import worker_init
worker_init.send(sender=None)
print(json.dumps({"before": before, "after": {m: m in sys.modules for m in celery_worker.PRELOADED}}))
"""


def _probe(preload: str) -> dict:
    """A fresh interpreter imports the configuration, then receives the worker's ``worker_init``."""
    env = {**os.environ, "SUPERVISION_WORKER_PRELOAD": preload}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_workers_configuration_is_airflows_own():
    assert celery_worker.CELERY_CONFIG == DEFAULT_CELERY_CONFIG
    assert celery_worker.CELERY_CONFIG is not DEFAULT_CELERY_CONFIG  # a copy: Airflow's stays untouched
    assert any("_on_worker_init" in repr(receiver) for _, receiver in worker_init.receivers)


@pytest.mark.slow  # not in `make test-fast`: a fresh interpreter imports dbt, GX and Cosmos
def test_worker_init_imports_the_dags_modules_dbt_and_gx():
    seen = _probe("true")
    # importing the configuration imports none of them (the scheduler and api-server import it too)
    assert not any(seen["before"][m] for m in ("great_expectations", "dbt.cli.main", "cosmos.operators.local"))
    assert all(seen["after"].values()), [m for m, v in seen["after"].items() if not v]


def test_worker_preload_setting_turns_it_off():
    seen = _probe("false")
    assert not seen["after"]["great_expectations"] and not seen["after"]["dbt.cli.main"]
