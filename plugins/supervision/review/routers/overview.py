"""The overview page: active alerts by district and rule, over time, and progress against targets."""
from __future__ import annotations

from fastapi import APIRouter, Request

from supervision.config import DISTRICTS
from supervision.review import catalogue as cat
from supervision.review import i18n
from supervision.review.web import CurrentUser, ReviewState, path, render

router = APIRouter()

CACHE_SECONDS = 60


@router.get("/overview", name="overview")
def overview(request: Request, user: CurrentUser, state: ReviewState):
    from supervision.review.overview import build_overview

    q = request.query_params
    district = q.get("district") if q.get("district") in DISTRICTS else None
    rule = q.get("rule") if q.get("rule") in cat.RULES else None
    # the figures come with their labels and charts, in the request's language
    data = state.cached(("overview", user.district_code, district, rule, i18n.current()), CACHE_SECONDS,
                        lambda: build_overview(state.pool, user, district, rule))
    return render(request, "overview.html", user, d=data, sel_district=district, sel_rule=rule,
                  list_url=path(request, "alert_list"))
