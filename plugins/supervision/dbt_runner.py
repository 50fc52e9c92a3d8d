"""Run the dbt project (``dbt_project/``) programmatically, against a warehouse given by URL.

``dbt_project/profiles.yml`` reads its connection from ``SUPERVISION_DBT_*`` environment
variables; :func:`dbt_env` derives them from a ``postgresql://`` URL, and :func:`run_dbt` sets
them for the duration of one dbt invocation (dbtRunner runs in-process, so the variables are
restored afterwards). The dbt vars that come from settings (the local time zone, dbt's
``local_timezone``) are passed with every invocation. :func:`build_manifest` parses the project into ``target/manifest.json``,
which the marts DAG hands to Cosmos (``LoadMode.DBT_MANIFEST``) so DAG parsing never runs dbt.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from supervision.config import libpq_url, settings

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
ENV_PREFIX = "SUPERVISION_DBT_"
PROFILE, TARGET = "supervision", "warehouse"  # dbt_project/profiles.yml's; Cosmos' builds use the same names
# the day a build runs for (macros/incremental_window.sql's run_date_sql): an environment variable, not a
# dbt var, because dbt parses the whole project again whenever the vars change (about 2 s)
RUN_DATE_ENV = "SUPERVISION_DBT_RUN_DATE"
COSMOS_CACHE = "supervision_dbt"  # Cosmos' cache folder of the marts DAG's builds (their partial parse)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOCK = threading.Lock()  # dbtRunner and os.environ are process-global: one invocation at a time
# global flags added to every run_dbt invocation of this process. The test suite adds
# "--log-level-file none --no-write-json" (tests/conftest.py): no debug file log and no manifest.json
# or run_results.json, about a second of each of its builds; `supervision dbt` keeps dbt's defaults
EXTRA_FLAGS: list[str] = []


class DbtError(RuntimeError):
    """A dbt invocation failed; the message names the failing nodes."""


def project_dir() -> Path:
    configured = settings().dbt_project_dir
    return configured if configured.is_dir() else PROJECT_DIR


def dbt_env(warehouse_url: str) -> dict[str, str]:
    """Environment variables for ``profiles.yml`` from a ``postgresql://user:pw@host:port/db`` URL."""
    parts = urlsplit(libpq_url(warehouse_url))
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {parts.scheme}://...")
    return {
        f"{ENV_PREFIX}HOST": parts.hostname or "127.0.0.1",
        f"{ENV_PREFIX}PORT": str(parts.port or 5432),
        f"{ENV_PREFIX}USER": unquote(parts.username or "postgres"),
        f"{ENV_PREFIX}PASSWORD": unquote(parts.password or ""),
        f"{ENV_PREFIX}DBNAME": unquote(parts.path.lstrip("/") or "warehouse"),
    }


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _common_args(project: Path) -> list[str]:
    # the profile and target named as Cosmos names them (dbt_profile): dbt's parse state includes the
    # names, so a partial parse written by a Cosmos build serves these invocations, and the reverse
    return ["--project-dir", str(project), "--profiles-dir", str(project), "--profile", PROFILE, "--target", TARGET]


def _failure_message(args: list[str], result) -> str:
    lines = [f"dbt {' '.join(args)} failed"]
    if result.exception is not None:
        lines.append(f"  {type(result.exception).__name__}: {result.exception}")
    res = result.result
    for r in getattr(res, "results", None) or []:
        status = str(getattr(r, "status", "")).lower()
        if status in ("error", "fail", "runtime error", "runtimestatus.error", "teststatus.fail",
                      "teststatus.error", "nodestatus.error") or status.endswith((".error", ".fail")):
            node = getattr(r, "node", None)
            name = getattr(node, "unique_id", None) or getattr(node, "name", "?")
            msg = (getattr(r, "message", "") or "").strip().splitlines()
            lines.append(f"  {status.split('.')[-1]}: {name}: {' | '.join(msg[:6])}")
    return _ANSI.sub("", "\n".join(lines))


def _with_vars(args: list[str], vars: dict | None) -> list[str]:
    """``args`` with one ``--vars``: the settings' vars, then a ``--vars`` already in ``args`` (YAML, as
    dbt takes it), then ``vars``; later ones win."""
    import yaml

    merged: dict = dict(settings().dbt_vars())
    rest: list[str] = []
    it = iter(args)
    for arg in it:
        if arg == "--vars" or arg.startswith("--vars="):
            text = arg.split("=", 1)[1] if "=" in arg else next(it, "")
            given = yaml.safe_load(text) or {}
            if not isinstance(given, dict):
                raise DbtError(f"--vars {text!r}: not a mapping")
            merged.update(given)
        else:
            rest.append(arg)
    merged.update(vars or {})
    return [*rest, "--vars", json.dumps(merged, default=str)]


def run_dbt(args: list[str], warehouse_url: str, vars: dict | None = None) -> None:
    """Run ``dbt <args>`` against ``warehouse_url``; raise :class:`DbtError` if anything failed.

    ``vars`` become ``--vars`` (JSON) over the settings' vars, but for ``run_date`` (e.g.
    ``{"run_date": "2024-03-01"}``), which goes as ``SUPERVISION_DBT_RUN_DATE`` as in the marts DAG's
    builds: a different day then reuses dbt's partial parse (0.5 s against 2.5 s for a one-model run).
    """
    from dbt.cli.main import dbtRunner

    project = project_dir()
    vars = dict(vars or {})
    env = dbt_env(warehouse_url)
    if vars.get("run_date"):
        env[RUN_DATE_ENV] = str(vars.pop("run_date"))
    full = _with_vars([*args, *_common_args(project), *EXTRA_FLAGS], vars)
    with _LOCK, _environment(env):
        result = dbtRunner().invoke(full)
    if not result.success:
        raise DbtError(_failure_message(args, result))


def placeholder_env() -> dict[str, str]:
    """``profiles.yml``'s variables for dbt commands that render the profile but never connect
    (``parse``, ``ls``)."""
    return {f"{ENV_PREFIX}HOST": "127.0.0.1", f"{ENV_PREFIX}PORT": "5432", f"{ENV_PREFIX}USER": "postgres",
            f"{ENV_PREFIX}PASSWORD": "", f"{ENV_PREFIX}DBNAME": "warehouse"}


def build_manifest(warehouse_url: str | None = None) -> Path:
    """Run ``dbt parse`` and return the path of ``dbt_project/target/manifest.json``.

    Parsing does not connect to the database, but profiles.yml must render: without a URL,
    placeholder connection values are used.
    """
    from dbt.cli.main import dbtRunner

    project = project_dir()
    env = dbt_env(warehouse_url) if warehouse_url else placeholder_env()
    # parse must not pick up a real password from the caller's environment by accident either way
    with _LOCK, _environment(env):
        result = dbtRunner().invoke(_with_vars(["parse", *_common_args(project)], None))
    if not result.success:
        raise DbtError(_failure_message(["parse"], result))
    manifest = project / "target" / "manifest.json"
    if not manifest.exists():
        raise DbtError(f"dbt parse succeeded but wrote no {manifest}")
    return manifest
