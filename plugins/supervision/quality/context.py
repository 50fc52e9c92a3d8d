"""The GX context our suites run in: ephemeral (suites, assets and credentials stay in memory, the
suites' definitions live in ``expectations/``), with two things on disk under ``settings().gx_dir``:
the validation results (``validations/``, pruned to the last ``KEEP_DAYS`` days) and the static
Data Docs site built from them (``data_docs/index.html``).
"""
from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.datasource.fluent import PostgresDatasource

DOCS_SITE = "supervision"
DATASOURCE = "warehouse"
KEEP_DAYS = 14  # validation results kept for Data Docs; the lasting history is ops.gx_validation_results


def gx_dir_default() -> Path:
    from supervision.config import settings

    return settings().gx_dir


def docs_index(gx_dir: Path) -> Path:
    return gx_dir / "data_docs" / "index.html"


def gx_connection_string(warehouse_url: str) -> str:
    """The warehouse URL as GX's SQLAlchemy engine wants it: psycopg2 driver, local session time zone."""
    from supervision.config import libpq_url, settings

    url = libpq_url(warehouse_url)
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg2://" + url[len(prefix):]
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-c%20timezone%3D{settings().local_tz.replace('/', '%2F')}"


def make_context(gx_dir: Path) -> AbstractDataContext:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics (and no network)
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    # GX logs a warning for every exact decimal it turns into a float for its JSON results (our
    # derived hours and minutes are exact numerics on purpose): noise, at one line per sample value
    logging.getLogger("great_expectations.util").setLevel(logging.ERROR)
    gx_dir.mkdir(parents=True, exist_ok=True)
    prune_validation_results(gx_dir / "validations")
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        stores={
            "validation_results_store": {
                "class_name": "ValidationResultsStore",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(gx_dir / "validations")},
            },
        },
        data_docs_sites={
            DOCS_SITE: {
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(gx_dir / "data_docs")},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        },
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def add_warehouse(context: AbstractDataContext, warehouse_url: str) -> PostgresDatasource:
    return context.data_sources.add_postgres(DATASOURCE, connection_string=gx_connection_string(warehouse_url))


def dispose(datasource: Any) -> None:
    """Close the datasource's connection pool (each call of ours makes a fresh engine)."""
    try:
        datasource.get_execution_engine().engine.dispose()
    except Exception:  # noqa: BLE001 - best effort at the end of a run
        pass


def prune_validation_results(store: Path, keep_days: int = KEEP_DAYS) -> None:
    """Delete stored validation results older than ``keep_days`` (Data Docs re-reads them all)."""
    if not store.is_dir():
        return
    cutoff = time.time() - keep_days * 86400
    for suite_dir in store.iterdir():
        if not suite_dir.is_dir():
            continue
        for run_dir in suite_dir.iterdir():
            files = [p for p in run_dir.rglob("*.json")] if run_dir.is_dir() else []
            if files and max(p.stat().st_mtime for p in files) < cutoff:
                shutil.rmtree(run_dir, ignore_errors=True)


VIEW_SCHEMA = "ops"


def replace_view(conn: Any, name: str, sql: str) -> str:
    """(Re)create ``ops.<name>`` as ``sql``; returns the qualified name.

    Every batch GX validates is a view, given to GX as a *table* asset: GX reflects a custom-SQL
    (query) asset's columns by running the whole query and fetching every row into Python (GX
    1.24 ``column_reflection_fallback``) - at city scale, seconds and hundreds of MB per suite.
    A view's columns come from the catalog, and PostgreSQL inlines it into each expectation's query."""
    conn.execute(f"drop view if exists {VIEW_SCHEMA}.{name}")
    conn.execute(f"create view {VIEW_SCHEMA}.{name} as\n{sql}")
    return f"{VIEW_SCHEMA}.{name}"


def drop_views(warehouse_url: str, names: list[str]) -> None:
    from supervision.warehouse import connect

    with connect(warehouse_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f"drop view if exists {VIEW_SCHEMA}.{name}")


def build_docs(context: AbstractDataContext, identifiers: list[Any], index: bool = True) -> None:
    """Render this run's validation pages and, with ``index``, the index, once (GX's
    UpdateDataDocsAction would rebuild the index after every validation: most of a run's time).

    The index lists every result kept, so it costs more than the pages (1-3 s a run, measured):
    a marts run builds it once, in its last GX step (record flags), or in the gates when they fail
    and the run stops there (or when there is no index yet)."""
    context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=identifiers, build_index=index)


def safe_run_name(run_id: str) -> str:
    """A run id usable as a folder name of the results store (which forbids slashes)."""
    return run_id.replace("/", "_").replace("\\", "_")


def page_url(context: AbstractDataContext, identifier: Any) -> str | None:
    """file:// URL of the Data Docs page of one validation result."""
    try:
        urls = context.get_docs_sites_urls(resource_identifier=identifier, site_name=DOCS_SITE)
    except Exception:  # noqa: BLE001 - a missing link must not lose the result
        return None
    return urls[0].get("site_url") if urls else None


def load_expectations_module(name: str, expectations_dir: Path | None = None) -> ModuleType:
    """Import ``expectations/<name>.py`` (the suites are kept in the repo, not in the package)."""
    if expectations_dir is None:
        from supervision.config import settings

        expectations_dir = settings().expectations_dir
    path = expectations_dir / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"suite definitions not found: {path}")
    mod_name = f"supervision_expectations_{name}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    spec.loader.exec_module(module)
    return module
