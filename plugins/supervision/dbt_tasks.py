"""The marts DAG's dbt builds: one Cosmos ``dbt build`` task per part (``dbt_daily.PARTS``).

Each task decides when it starts what the day's build runs (``dbt_daily.plan``: full after a code
change, daily otherwise), runs it through Cosmos (the warehouse connection's profile, dbt in the
task's process, partial parsing kept between runs), and records every node's result in
``ops.dbt_node_results`` (``dbt_daily.record``, Cosmos' callback: it runs before a failure is raised,
so a failed build's results are kept too). The business day reaches dbt as the environment variable
``SUPERVISION_DBT_RUN_DATE`` (``macros/incremental_window.sql``): a var would change every day and
make dbt parse the whole project again each time.

One task per build replaces Cosmos' watcher mode (a producer plus a sensor task per model and test,
129 of them): decision 0031 has the measurements. dbt runs in-process (``dbtRunner``): the alert
marts' daily build took 6.3 s as a subprocess and 1.35 s in a process that had run dbt before (dbt's
imports and start-up, 3-5 s, paid once per ``supervision run``; a scheduler's task process pays them
either way). Decision 0007's objection to in-process dbt was the watcher's per-event callbacks,
which a plain build does not have.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from cosmos import ProfileConfig
from cosmos import cache as cosmos_cache
from cosmos.constants import InvocationMode
from cosmos.operators.local import DbtBuildLocalOperator

from supervision.config import settings
from supervision.dbt_runner import COSMOS_CACHE, RUN_DATE_ENV
from supervision.heap import frozen_heap

log = logging.getLogger(__name__)


def _record_callback(project_dir: str, *, part: str, context: Any = None, **_: Any) -> None:
    from supervision import dbt_daily
    from supervision.dag_support import local_day, warehouse_url

    ti = context["ti"]
    plan = ti.xcom_pull(task_ids=ti.task_id, key="dbt_plan") or {}
    counts = dbt_daily.record(project_dir, part=part, plan_dict=plan, warehouse_url=warehouse_url(),
                              run_id=str(context["run_id"]), business_day=local_day(context))
    log.info("dbt %s: node results recorded in ops.dbt_node_results: %s", part, counts)
    if part == "alert_marts" and plan.get("full") and counts.get("recorded") and not (
            counts.get("error") or counts.get("fail")):
        # the dbt docs page (models, lineage, catalog) follows the code: made after each full build
        from supervision.dbt_docs import generate_dbt_docs

        try:
            log.info("dbt docs written to %s", generate_dbt_docs(warehouse_url()))
        except Exception:  # noqa: BLE001 - the docs page must not fail the marts
            log.exception("dbt docs not generated")


class DailyDbtBuild(DbtBuildLocalOperator):
    """``dbt build`` of one part, selected by the day's plan."""

    def __init__(self, *, part: str, project_dir: Path, profile_config: ProfileConfig, **kwargs: Any) -> None:
        from supervision.dag_support import local_day_template

        self.part = part
        super().__init__(
            project_dir=str(project_dir), profile_config=profile_config,
            dbt_executable_path=str(Path(sys.executable).with_name("dbt")),
            invocation_mode=InvocationMode.DBT_RUNNER, install_deps=False, partial_parse=True,
            emit_datasets=False, vars=settings().dbt_vars(), env={RUN_DATE_ENV: local_day_template()},
            # dbt's debug file log would be written into Cosmos' temporary copy of the project and
            # deleted with it; the task's log keeps dbt's console lines (decision 0054)
            dbt_cmd_global_flags=["--log-level-file", "none"],
            callback=_record_callback, callback_args={"part": part}, **kwargs)

    def execute(self, context: Any, **kwargs: Any) -> None:
        from supervision import dbt_daily
        from supervision.dag_support import warehouse_url

        # Cosmos keeps dbt's partial parse of the previous build here (a standalone operator has no
        # cache folder unless given one, and dbt would then parse the whole project every run). One
        # folder for both parts: a build's selection is not part of dbt's parse state, so the alert
        # marts' build reuses the models build's parse. A fresh environment (a new worker, a new
        # warehouse) then parses the whole project once, not once per part: the parse shipped in
        # dbt_project/target cannot serve it, as dbt's parse state hashes the connection's host,
        # port, user and database.
        self.cache_dir = cosmos_cache._obtain_cache_dir_path(cache_identifier=COSMOS_CACHE)
        plan = dbt_daily.plan(self.part, warehouse_url(), Path(self.project_dir), settings().dbt_vars())
        log.info("dbt %s: %s build (%s); --select %s --exclude %s", self.part,
                 "full" if plan.full else "daily", plan.reason, plan.select, plan.exclude)
        context["ti"].xcom_push(key="dbt_plan", value=plan.as_dict())
        self.select, self.exclude = plan.select, plan.exclude
        with frozen_heap():  # dbt's collections, Cosmos' gc.collect() included, skip the process's heap
            super().execute(context, **kwargs)
