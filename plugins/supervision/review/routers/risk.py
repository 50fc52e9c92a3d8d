"""The risk page: institutions and evaluation orgs by risk score, with the evidence behind it."""
from __future__ import annotations

from fastapi import APIRouter, Request

from supervision.config import DISTRICTS
from supervision.review.web import CurrentUser, ReviewState, render

router = APIRouter()

CACHE_SECONDS = 60


@router.get("/risk", name="risk")
def risk(request: Request, user: CurrentUser, state: ReviewState):
    from supervision.review.risk import FAMILIES, build_risk

    q = request.query_params
    district = q.get("district") if q.get("district") in DISTRICTS else None
    data = state.cached(("risk", user.district_code, district), CACHE_SECONDS,
                        lambda: build_risk(state.pool, user, district))
    return render(request, "risk.html", user, d=data, sel_district=district, families=FAMILIES,
                  DISTRICTS=DISTRICTS)
