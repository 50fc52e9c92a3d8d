"""The data's documentation, for logged-in users only: the GX Data Docs (static files written by the
quality step) and the dbt docs of the models and marts (one page, ``supervision.dbt_docs``)."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse

from supervision.review.i18n import N_, gettext
from supervision.review.web import CurrentUser, render
from supervision.review.web import path as route_path

router = APIRouter()


# Declared before the GX catch-all below, which would otherwise take /data-docs/dbt.
@router.get("/data-docs/dbt", name="dbt_docs")
def dbt_docs(request: Request, user: CurrentUser):
    from supervision.dbt_docs import STATIC_PAGE, dbt_docs_dir

    page = dbt_docs_dir() / STATIC_PAGE
    if not page.is_file():
        return render(request, "error.html", user, status_code=404, status=404,
                      detail=gettext("No dbt docs yet: run supervision dbt docs generate --static --target-path "
                                     "$SUPERVISION_VAR_DIR/dbt_docs (or wait for the next marts build)."))
    return FileResponse(page, media_type="text/html; charset=utf-8")


@router.get("/data-docs/{path:path}", name="data_docs")
def data_docs(request: Request, user: CurrentUser, path: str = ""):
    from supervision.config import settings

    root = (settings().gx_dir / "data_docs").resolve()
    if not root.is_dir():
        return render(request, "error.html", user, status_code=404, status=404,
                      detail=gettext("No Great Expectations Data Docs yet: they appear after the first quality run."))
    target = (root / path).resolve()
    if root not in (target, *target.parents):
        raise HTTPException(404, N_("Not Found"))
    if target.is_dir():
        for candidate in (target / "index.html", target / "local_site" / "index.html"):
            if candidate.is_file():
                return RedirectResponse(route_path(request, "data_docs", path=str(candidate.relative_to(root))),
                                        status_code=303)
        raise HTTPException(404, N_("Not Found"))
    if not target.is_file():
        raise HTTPException(404, N_("Not Found"))
    return FileResponse(target)
