"""dbt docs for the people who read the marts: ``dbt docs generate --static`` into the var folder.

The single self-contained page (``static_index.html``: models, columns, tests, lineage, exposures,
and the catalog of the warehouse's relations) is served by the review application beside the
Great Expectations Data Docs (``/data-docs/dbt``). It is written under ``$SUPERVISION_VAR_DIR``,
not ``dbt_project/target``, so that generating it never rewrites the manifest the DAGs parse.
"""
from __future__ import annotations

import logging
from pathlib import Path

STATIC_PAGE = "static_index.html"

log = logging.getLogger(__name__)


def dbt_docs_dir() -> Path:
    from supervision.config import settings

    return settings().var_dir / "dbt_docs"


def generate_dbt_docs(warehouse_url: str | None = None) -> Path:
    """Generate the docs (the catalog reads the warehouse: run it after a marts build); the page's path."""
    from supervision.config import settings
    from supervision.dbt_runner import run_dbt

    target = dbt_docs_dir()
    target.mkdir(parents=True, exist_ok=True)
    _start_from_the_builds_parse(target)
    run_dbt(["docs", "generate", "--static", "--target-path", str(target)],
            warehouse_url or settings().warehouse_url())
    return target / STATIC_PAGE


def _start_from_the_builds_parse(target: Path) -> None:
    """Put the marts builds' latest partial parse (Cosmos' cache) in ``target`` when it is newer than
    the docs' own: dbt then parses only what changed since, not the whole project (about 10 s). The
    builds name the same profile and target (``dbt_runner.PROFILE``, ``TARGET``) and reach the same
    warehouse, so dbt's parse state matches; where it does not, dbt says so and parses it all."""
    import shutil

    from supervision.dbt_runner import COSMOS_CACHE, project_dir

    own: Path | None = None
    try:
        # Cosmos' cache helpers are not its public API: if a Cosmos release moves them, the docs
        # parse the whole project (slower, same pages) rather than fail
        from cosmos import cache as cosmos_cache

        cached = cosmos_cache.get_partial_parse_path(cosmos_cache._obtain_cache_dir_path(COSMOS_CACHE))
        own = target / cached.name
        if not cached.is_file() or (own.is_file() and own.stat().st_mtime >= cached.stat().st_mtime):
            return
        shutil.copyfile(cached, own)
        # the cached parse names the build's temporary copy of the project: point it at the project itself
        cosmos_cache.patch_partial_parse_content(own, project_dir())
    except Exception as exc:  # noqa: BLE001 - any failure here only costs a full parse
        log.warning("dbt docs: parsing the whole project (the builds' parse could not be reused: %s)", exc)
        if own is not None:
            own.unlink(missing_ok=True)
