"""Triage routes: one alert's action from its page, and a bulk action from the list."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from supervision.review.i18n import gettext
from supervision.review.triage import BULK_MAX, apply_action
from supervision.review.web import CurrentUser, ReviewState, csrf_protect, flash, path

router = APIRouter()


@router.post("/alerts/bulk", name="alert_bulk", dependencies=[Depends(csrf_protect)])
async def alert_bulk(request: Request, user: CurrentUser, state: ReviewState):
    form = await request.form()
    ids = list(dict.fromkeys(str(i)[:64] for i in form.getlist("ids")))[:BULK_MAX]
    action = str(form.get("action") or "")
    comment = str(form.get("comment") or "")
    assignee = str(form.get("assignee") or "")
    back = str(form.get("return_qs") or "")
    if not ids:
        raise HTTPException(400, gettext("No alerts selected."))

    def work():
        with state.pool.as_user(user.district_code) as conn:
            return apply_action(conn, user.username, ids, action, comment, assignee)
    res = await run_in_threadpool(work)
    flash(request, "ok", gettext("%(done)s updated; %(skipped)s not allowed from their status; %(missing)s not found")
          % {"done": res["done"], "skipped": res["skipped"], "missing": res["missing"]})
    back_qs = "&".join(p for p in back.split("&") if p and "\n" not in p and "\r" not in p)
    return RedirectResponse(path(request, "alert_list") + ("?" + back_qs if back_qs else ""), status_code=303)


@router.post("/alerts/{alert_id}/triage", name="alert_triage", dependencies=[Depends(csrf_protect)])
def alert_triage(request: Request, alert_id: str, user: CurrentUser, state: ReviewState, action: str = Form(""),
                 comment: str = Form(""), assignee: str = Form("")):
    with state.pool.as_user(user.district_code) as conn:
        res = apply_action(conn, user.username, [alert_id[:64]], action, comment, assignee)
    if res["missing"]:
        raise HTTPException(404, gettext("No such alert (or not in your district)."))
    if res["skipped"]:
        raise HTTPException(409, gettext("That action is not allowed from the alert's current status."))
    flash(request, "ok", gettext("Saved."))
    return RedirectResponse(path(request, "alert_detail", alert_id=alert_id), status_code=303)
