"""The risk page: institutions and evaluation orgs by risk score, with the evidence behind it, and
the supervisors' verdicts on each finding (``review.risk_review``)."""
from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from supervision.config import DISTRICTS
from supervision.review.i18n import gettext
from supervision.review.web import CurrentUser, ReviewState, csrf_protect, flash, path, render

router = APIRouter()

CACHE_SECONDS = 60


@router.get("/risk", name="risk")
def risk(request: Request, user: CurrentUser, state: ReviewState):
    from supervision.review.risk import FAMILIES, build_risk
    from supervision.review.risk_review import ACTIONS, VERDICT_LABELS, standing_verdicts

    q = request.query_params
    district = q.get("district") if q.get("district") in DISTRICTS else None
    data = state.cached(("risk", user.district_code, district), CACHE_SECONDS,
                        lambda: build_risk(state.pool, user, district))
    keys = [("institution", r["entity_id"]) for r in data["institutions"]] + [
        ("evaluation_org", r["entity_id"]) for r in data["orgs"]]
    # the verdicts are read on every request (the figures above are cached): a verdict shows at once
    with state.pool.as_user(user.district_code) as conn:
        verdicts = standing_verdicts(conn, data["month"], keys)
    return render(request, "risk.html", user, d=data, sel_district=district, families=FAMILIES,
                  DISTRICTS=DISTRICTS, verdicts=verdicts, verdict_actions=ACTIONS, verdict_labels=VERDICT_LABELS)


@router.post("/risk/verdict", name="risk_verdict", dependencies=[Depends(csrf_protect)])
def risk_verdict(request: Request, user: CurrentUser, state: ReviewState, entity_type: str = Form(""),
                 entity_id: str = Form(""), month: str = Form(""), action: str = Form(""),
                 comment: str = Form(""), district: str = Form("")):
    from supervision.review.risk_review import ENTITY_TYPES, record_verdict

    try:
        finding_month = date.fromisoformat(month[:10])
    except ValueError:
        raise HTTPException(400, gettext("Unknown month.")) from None
    with state.pool.as_user(user.district_code) as conn:
        record_verdict(conn, user.username, user.district_code, entity_type, entity_id[:64], finding_month, action,
                       comment)
    flash(request, "ok", gettext("Saved."))
    back = {"district": district} if district in DISTRICTS else {}
    anchor = f"#{entity_type}-{quote(entity_id[:64], safe='')}" if entity_type in ENTITY_TYPES else ""
    return RedirectResponse(path(request, "risk") + ("?" + urlencode(back) if back else "") + anchor,
                            status_code=303)
