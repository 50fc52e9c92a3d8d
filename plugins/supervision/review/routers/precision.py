"""The rule-precision page: what reviewers made of each rule's alerts, and of the risk findings
(``review.precision``)."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request

from supervision.config import CITY_CODE, DISTRICTS
from supervision.review.web import CurrentUser, ReviewState, path, render

router = APIRouter()


def _month(value: str | None) -> date | None:
    """``YYYY-MM`` (or a date in it) as the month's first day; anything else: all months."""
    try:
        return date.fromisoformat((value or "")[:7] + "-01")
    except ValueError:
        return None


@router.get("/precision", name="rule_precision")
def rule_precision(request: Request, user: CurrentUser, state: ReviewState):
    from supervision.review.precision import risk_review_precision
    from supervision.review.precision import rule_precision as figures
    from supervision.review.risk_review import FLAG_POINTS

    q = request.query_params
    district = q.get("district") if user.is_city and q.get("district") in (CITY_CODE, *DISTRICTS) else None
    month = _month(q.get("month"))
    with state.pool.as_user(user.district_code) as conn:
        data = figures(conn, district, month)
        # the scorecards behind the risk review row are not row-level secured: a district user's own district
        data["risk"] = risk_review_precision(conn, user.district_code or district, month)
    return render(request, "precision.html", user, d=data, sel_district=district, sel_month=month,
                  city_code=CITY_CODE, list_url=path(request, "alert_list"), risk_url=path(request, "risk"),
                  flag_points=FLAG_POINTS)
