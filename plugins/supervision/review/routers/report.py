"""The monthly supervision report (月度督导报告): a page of months, and each month's PDF and XLSX.

A district's users get their district's report only; city users any district's and the city's
(``310000``). The figures are gathered in the user's own transaction (``Pool.as_user``), so
row-level security applies to the alerts as on every other page.
"""
from __future__ import annotations

import re
from datetime import date

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from supervision.config import CITY_CODE, DISTRICTS
from supervision.review.i18n import gettext
from supervision.review.web import CurrentUser, ReviewState, User, path, render

router = APIRouter()

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MONTHS_LISTED = 24
TYPES = {"pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _scope_for(user: User, scope: str | None) -> str:
    """The scope a user asks for, if allowed: a district user only its own district."""
    if user.district_code is not None:
        if scope not in (None, "", user.district_code):
            raise HTTPException(403, gettext("A district's users get their own district's report only."))
        return user.district_code
    if not scope:
        return CITY_CODE
    if scope != CITY_CODE and scope not in DISTRICTS:
        raise HTTPException(404, gettext("No such district."))
    return scope


def _month(text: str) -> date:
    m = MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise HTTPException(404, gettext("The month is written YYYY-MM."))
    return date(int(m.group(1)), int(m.group(2)), 1)


@router.get("/reports", name="reports")
def reports(request: Request, user: CurrentUser, state: ReviewState):
    from supervision.report.labels import month_label, scope_name

    scope = _scope_for(user, request.query_params.get("scope"))
    with state.pool.as_user(user.district_code) as conn:
        # the months that hold data: the progress mart has a row for every month of a year (zeros too)
        months = [r["month"] for r in conn.execute(
            """select month from marts.district_target_progress
               where district_code = %s group by month having sum(month_value) <> 0
               order by 1 desc limit %s""", (CITY_CODE, MONTHS_LISTED)).fetchall()]
    rows = [{"label": month_label(m),
             "pdf": path(request, "report_file", scope=scope, month=f"{m:%Y-%m}", fmt="pdf"),
             "xlsx": path(request, "report_file", scope=scope, month=f"{m:%Y-%m}", fmt="xlsx")} for m in months]
    scopes = {CITY_CODE: scope_name(CITY_CODE), **{c: scope_name(c) for c in DISTRICTS}} if user.is_city else {}
    return render(request, "reports.html", user, rows=rows, scope=scope, scope_label=scope_name(scope),
                  scopes=scopes)


@router.get("/reports/{scope}/{month}.{fmt}", name="report_file")
def report_file(scope: str, month: str, fmt: str, user: CurrentUser, state: ReviewState):
    from supervision.report.data import gather

    if fmt not in TYPES:
        raise HTTPException(404, gettext("The report comes as PDF or XLSX."))
    allowed = _scope_for(user, scope)
    first = _month(month)
    with state.pool.as_user(user.district_code) as conn:
        rep = gather(conn, allowed, first)
    if fmt == "pdf":
        from supervision.report.pdf import render_pdf

        body = render_pdf(rep)
    else:
        from supervision.report.xlsx import render_xlsx

        body = render_xlsx(rep)
    return Response(body, media_type=TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{rep.file_stem()}.{fmt}"'})
