"""Triage as a service: status changes, assignments and comments on alerts, each one an audit event.

Runs inside the caller's ``Pool.as_user`` transaction: row-level security decides which alerts exist
(another district's alert is "missing"); concurrent triage of one alert is serialised. The service only
names the reviewer of the transaction and inserts events; the database does the rest
(``schema.sql``): it stamps each event with that reviewer and its own clock, and the event moves the
alert's status or sets its assignment. The application's roles can not UPDATE either themselves.
"""
from __future__ import annotations

from typing import Any

import psycopg
from fastapi import HTTPException

from supervision.review import catalogue as cat
from supervision.review.i18n import action_label, gettext

BULK_MAX = 500
COMMENT_MAX = 4000
TRIAGE_LOCK = 7400080   # advisory lock class of an alert's triage

# one statement for all the events of an action: the database applies them together
_EVENTS = ("insert into review.alert_events (alert_id, district_code, username, action, from_status, to_status,"
           " assignee, comment) select * from unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
           " %s::text[], %s::text[], %s::text[])")


def name_reviewer(conn, username: str) -> None:
    """Name the reviewer of this transaction: the user the database writes on its audit events."""
    conn.execute("select set_config('review.actor', %s, true)", (username,))


def apply_action(conn, username: str, ids: list[str], action: str, comment: str, assignee: str | None) -> dict:
    """Apply ``action`` to the alerts ``ids``; counts of those done, skipped (not allowed from their
    status) and missing (no such alert, or not visible to the user)."""
    comment = (comment or "").strip()[:COMMENT_MAX]
    name_reviewer(conn, username)
    # one triage at a time per alert (the roles have no UPDATE, hence no FOR UPDATE): the statuses read
    # next are the latest; the database checks each event's from_status under a row lock all the same
    conn.execute("select count(pg_advisory_xact_lock(%s, hashtext(i))) from "
                 "(select distinct i from unnest(%s::text[]) i order by i) s", (TRIAGE_LOCK, ids))
    rows = conn.execute("select alert_id, status, district_code from marts.supervision_alerts "
                        "where alert_id = any(%s) order by alert_id", (ids,)).fetchall()
    done: list[Any] = []
    skipped: list[Any] = []
    events: list[tuple] = []
    if action in cat.ACTIONS:
        allowed, to_status, needs_comment, _, _label = cat.ACTIONS[action]
        if needs_comment and not comment:
            raise HTTPException(400, gettext("%(action)s: a reason is required.") % {"action": action_label(action)})
        for r in rows:
            (done if r["status"] in allowed else skipped).append(r)
        events = [(r["alert_id"], r["district_code"], username, action, r["status"], to_status, None, comment or None)
                  for r in done]
    elif action == "assign":
        target = (assignee or "").strip() or None
        if target is not None and conn.execute(
                "select 1 from review.users where username = %s and active", (target,)).fetchone() is None:
            raise HTTPException(400, gettext("Unknown assignee."))
        done = list(rows)
        events = [(r["alert_id"], r["district_code"], username, "assign", r["status"], r["status"], target,
                   comment or None) for r in done]
    elif action == "comment":
        if not comment:
            raise HTTPException(400, gettext("A comment is required."))
        done = list(rows)
        events = [(r["alert_id"], r["district_code"], username, "comment", r["status"], r["status"], None, comment)
                  for r in done]
    else:
        raise HTTPException(400, gettext("Unknown action."))
    if events:
        try:
            conn.execute(_EVENTS, [list(column) for column in zip(*events, strict=True)])
        except psycopg.errors.CheckViolation as err:   # the alert changed under us (the database checks)
            raise HTTPException(409, gettext("The alert's status changed meanwhile: reload and try again.")
                                ) from err
    found = {r["alert_id"] for r in rows}
    return {"done": len(done), "skipped": len(skipped), "missing": len([i for i in ids if i not in found])}
