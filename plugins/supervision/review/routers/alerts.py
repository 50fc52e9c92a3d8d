"""The alert list (filters, sorting, keyset pages), its CSV export, and an alert's detail page."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from supervision.review import listing
from supervision.review.i18n import N_, gettext
from supervision.review.listing import Filters
from supervision.review.web import CurrentUser, ReviewState, path, render

router = APIRouter()

# Related alerts on the detail page: (key, label (a message id), review.alert_links column, list filter parameter).
RELATED = (("institution", N_("Same training institution"), "institution_id", "org"),
           ("org", N_("Same evaluation organisation"), "org_id", "org"),
           ("person", N_("Same person"), "person_key", "person"),
           ("exam", N_("Same exam"), "exam_id", "exam"))


@router.get("/alerts", name="alert_list")
def alert_list(request: Request, user: CurrentUser, state: ReviewState):
    state.maybe_refresh_links()
    q = request.query_params
    f = Filters.parse(q)
    after = listing.decode_cursor(q.get("after"), f.sort)
    before = listing.decode_cursor(q.get("before"), f.sort) if after is None else None
    try:
        page = max(int(q.get("p") or 1), 1)
    except ValueError:
        page = 1
    with state.pool.as_user(user.district_code) as conn:
        pg = listing.page_of(conn, f, user.username, after, before, page)
    rows = pg.rows
    base = path(request, "alert_list")
    next_url = (base + "?" + urlencode(f.query(after=listing.cursor_of(f, rows[-1]), p=str(page + 1)))
                if rows and pg.has_next else None)
    prev_url = (base + "?" + urlencode(f.query(before=listing.cursor_of(f, rows[0]), p=str(page - 1)))
                if rows and pg.has_prev and page > 2 else base + "?" + urlencode(f.query())) if pg.has_prev else None
    first = (page - 1) * f.per_page + 1 if rows else 0
    return render(request, "alerts.html", user, rows=rows, f=f, total=pg.total, exact=pg.exact, page=page,
                  first=first, last=first + len(rows) - 1 if rows else 0, next_url=next_url, prev_url=prev_url,
                  qs=urlencode(f.query()), assignees=pg.assignees,
                  detail_base=path(request, "alert_detail", alert_id="_")[:-1],
                  sort_url=lambda key: base + "?" + urlencode(f.query(
                      sort=key, dir="asc" if f.sort == key and f.dir == "desc" else None)),
                  export_url=path(request, "alert_export") + "?" + urlencode(f.query()))


@router.get("/alerts.csv", name="alert_export")
def alert_export(request: Request, user: CurrentUser, state: ReviewState):
    f = Filters.parse(request.query_params)
    fname = f"supervision_alerts_{datetime.now():%Y%m%d_%H%M}.csv"
    return StreamingResponse(listing.export_csv(state.pool, user.district_code, f, user.username),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{fname}"'})


@router.get("/alerts/{alert_id}", name="alert_detail")
def alert_detail(request: Request, alert_id: str, user: CurrentUser, state: ReviewState):
    from supervision.review import evidence

    state.maybe_refresh_links()
    with state.pool.as_user(user.district_code) as conn:
        a = conn.execute("select * from marts.supervision_alerts where alert_id = %s", (alert_id[:64],)).fetchone()
        if a is None:
            raise HTTPException(404, gettext("No such alert (or not in your district)."))
        events = conn.execute("select * from review.alert_events where alert_id = %s order by at desc, event_id desc",
                              (alert_id,)).fetchall()
        asg = conn.execute("select * from review.assignments where alert_id = %s", (alert_id,)).fetchone()
        links = conn.execute("select * from review.alert_links where alert_id = %s", (alert_id,)).fetchone()
        if links is None:
            conn.execute("select review.refresh_alert_links(%s)", (alert_id,))
            links = conn.execute("select * from review.alert_links where alert_id = %s", (alert_id,)).fetchone()
        related = []
        if links:
            for key, label, col, param in RELATED:
                if not links[col]:
                    continue
                rs = conn.execute(
                    f"select a.alert_id, a.rule_code, a.severity, a.occurred_on, a.status, a.is_active, a.entity_key"
                    f" from review.alert_links l join marts.supervision_alerts a on a.alert_id = l.alert_id"
                    f" where l.{col} = %s and l.alert_id <> %s order by a.occurred_on desc, a.alert_id limit 11",
                    (links[col], alert_id)).fetchall()
                related.append({"key": key, "label": label, "value": links[col], "rows": rs[:10],
                                "more": len(rs) > 10,
                                "url": path(request, "alert_list") + "?" + urlencode(
                                    {param: links[col], "active": "all"})})
        assignees = listing.active_usernames(conn)
        blocks = evidence.for_alert(conn, a)
    return render(request, "alert.html", user, a=a, events=events, asg=asg, links=links, related=related,
                  blocks=blocks, assignees=assignees)
