"""The environment Airflow runs in: home, metadata database, connections, and quiet defaults.

Every entry point that starts Airflow (``supervision run``, ``supervision serve``, the tests) calls
``apply_airflow_environ()`` before importing airflow, so that the CLI, the runner and the UI all see
the same configuration without an ``airflow.cfg`` to keep in step.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from supervision.config import Settings, libpq_url, settings, sqlalchemy_url


def _airflow_conn_uri(url: str) -> str:
    """An Airflow connection URI for a PostgreSQL URL (Airflow names the scheme 'postgres')."""
    return "postgres://" + libpq_url(url).split("://", 1)[1]


def airflow_environ(s: Settings | None = None, celery_broker_url: str | None = None) -> dict[str, str]:
    """Airflow's configuration as environment variables. With ``celery_broker_url`` (a Redis URL),
    the CeleryExecutor: tasks go through that broker to ``airflow celery worker`` processes, results
    to the metadata database, and each task instance records the Celery worker it ran on
    (``--celery-hostname``) as its host, so several workers on one machine stay apart."""
    s = s or settings()
    home = s.airflow_home
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(s.dags_dir),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(s.home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": s.local_tz,
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(s.airflow_db_url()),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        # the scheduler's health check server, when enabled, on loopback too (its default is 0.0.0.0);
        # the log servers have no bind setting: `supervision serve` does not start them (serve.py)
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
        "AIRFLOW__WEBSERVER__WARN_DEPLOYMENT_EXPOSURE": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(s.var_dir / "cosmos"),
        "DO_NOT_TRACK": "1",
        "SCARF_ANALYTICS": "false",
        "AIRFLOW__CORE__FERNET_KEY": _fernet_key(s),
        "AIRFLOW__API_AUTH__JWT_SECRET": s.secret("airflow_jwt_secret"),
        "AIRFLOW__API__SECRET_KEY": s.secret("airflow_api_secret"),
        "AIRFLOW_CONN_SUPERVISION_WAREHOUSE": _airflow_conn_uri(s.warehouse_url()),
        "AIRFLOW_CONN_SUPERVISION_TRAINING_DB": _airflow_conn_uri(s.training_db_url()),
        "SUPERVISION_HOME": str(s.home),
        "SUPERVISION_VAR_DIR": str(s.var_dir),
    }
    if celery_broker_url:
        env.update({
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": celery_broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + sqlalchemy_url(s.airflow_db_url()),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "supervision.airflow_env.task_hostname",
            # Airflow's Celery configuration, and the workers import the DAGs' modules once (celery_worker)
            "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "supervision.celery_worker.CELERY_CONFIG",
        })
    return env


def task_hostname() -> str:
    """Airflow's ``[core] hostname_callable``: inside a Celery worker the worker's node name
    (``airflow celery worker --celery-hostname NAME``), else the machine's FQDN (Airflow's default).
    Two workers on one machine then show apart in the task instances and the UI."""
    from celery import current_task

    request = current_task.request if current_task else None
    return getattr(request, "hostname", None) or socket.getfqdn()


def _fernet_key(s: Settings) -> str:
    key = s.secret("airflow_fernet_key", "AIRFLOW__CORE__FERNET_KEY")
    if len(key) != 44:  # not a Fernet key yet: derive one deterministically from the stored secret
        import base64
        import hashlib

        key = base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()).decode()
    return key


def apply_airflow_environ(s: Settings | None = None) -> dict[str, str]:
    env = airflow_environ(s)
    os.environ.update(env)
    return env


def migrate_metadata(s: Settings | None = None) -> None:
    """`airflow db migrate` once per schema version (a marker file keeps it off the hot path), then
    the pools."""
    s = s or settings()
    env = {**os.environ, **airflow_environ(s)}
    s.airflow_home.mkdir(parents=True, exist_ok=True)
    import airflow

    marker = s.airflow_home / f".migrated-{airflow.__version__}-{_db_fingerprint(s)}"
    if not marker.exists():
        airflow_bin = Path(sys.executable).with_name("airflow")
        res = subprocess.run([str(airflow_bin), "db", "migrate"], env=env, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
        marker.write_text("ok\n")
    ensure_pools()


def ensure_pools() -> None:
    """The pools our DAGs use, at the size the settings give (idempotent; in this process's Airflow
    configuration, so call it after ``apply_airflow_environ``)."""
    from supervision.guards import ensure_pool

    ensure_pool()


def _db_fingerprint(s: Settings) -> str:
    import hashlib

    return hashlib.sha256(s.airflow_db_url().encode()).hexdigest()[:10]
