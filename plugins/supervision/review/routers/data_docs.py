"""GX Data Docs (static files written by the quality step), for logged-in users only."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse

from supervision.review.i18n import N_, gettext
from supervision.review.web import CurrentUser, render
from supervision.review.web import path as route_path

router = APIRouter()


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
