"""The CeleryExecutor's part of Airflow's environment (supervision.airflow_env), without services:
the broker and result backend behind ``celery_broker_url``, and the host a task instance records
(the Celery worker's node name inside a worker, the machine's name elsewhere).
The services themselves: tests/test_scheduler_and_celery.py (slow)."""
from __future__ import annotations

import socket

from celery import Celery

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
