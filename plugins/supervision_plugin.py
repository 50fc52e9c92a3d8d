"""Airflow plugin: mounts the alert review application into the Airflow 3 UI at /supervision, and
registers the marts DAG's Deadline Alert reference (``supervision.guards.MartsDayDeadline``), which
the scheduler must find among the plugins' ``deadline_references``.

Airflow imports every .py under plugins/ as a module; the package folder is listed in
plugins/.airflowignore, so this small file is the only one it scans.
"""
from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


def _review_apps() -> list[dict]:
    try:
        from supervision.review.app import fastapi_app
    except ImportError:  # the review application is optional in a bare Airflow image
        return []
    # a lazy ASGI app: the warehouse is first touched on the first request, not when Airflow
    # imports its plugins
    return [fastapi_app]


def _deadline_references() -> list[type]:
    try:
        from supervision.guards import MartsDayDeadline
    except ImportError:  # the supervision package is not installed where this Airflow runs
        return []
    return [MartsDayDeadline]


class SupervisionPlugin(AirflowPlugin):
    name = "supervision"
    fastapi_apps = _review_apps()
    deadline_references = _deadline_references()
