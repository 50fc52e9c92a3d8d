"""dbt docs for the people who read the marts: ``dbt docs generate --static`` into the var folder.

The single self-contained page (``static_index.html``: models, columns, tests, lineage, exposures,
and the catalog of the warehouse's relations) is served by the review application beside the
Great Expectations Data Docs (``/data-docs/dbt``). It is written under ``$SUPERVISION_VAR_DIR``,
not ``dbt_project/target``, so that generating it never rewrites the manifest the DAGs parse.
"""
from __future__ import annotations

from pathlib import Path

STATIC_PAGE = "static_index.html"


def dbt_docs_dir() -> Path:
    from supervision.config import settings

    return settings().var_dir / "dbt_docs"


def generate_dbt_docs(warehouse_url: str | None = None) -> Path:
    """Generate the docs (the catalog reads the warehouse: run it after a marts build); the page's path."""
    from supervision.config import settings
    from supervision.dbt_runner import run_dbt

    target = dbt_docs_dir()
    target.mkdir(parents=True, exist_ok=True)
    run_dbt(["docs", "generate", "--static", "--target-path", str(target)],
            warehouse_url or settings().warehouse_url())
    return target / STATIC_PAGE
