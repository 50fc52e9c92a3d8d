"""Triage as a service: status changes, assignments and comments on alerts, each with its audit event.

Runs inside the caller's ``Pool.as_user`` transaction: row-level security decides which alerts exist
(another district's alert is "missing"), and the rows are locked for the change.
"""
from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from supervision.review import catalogue as cat

BULK_MAX = 500
COMMENT_MAX = 4000


def apply_action(conn, username: str, ids: list[str], action: str, comment: str, assignee: str | None) -> dict:
    """Apply ``action`` to the alerts ``ids``; counts of those done, skipped (not allowed from their
    status) and missing (no such alert, or not visible to the user)."""
    comment = (comment or "").strip()[:COMMENT_MAX]
    rows = conn.execute("select alert_id, status, district_code from marts.supervision_alerts "
                        "where alert_id = any(%s) order by alert_id for update", (ids,)).fetchall()
    done: list[Any] = []
    skipped: list[Any] = []
    if action in cat.ACTIONS:
        allowed, to_status, needs_comment, _, label = cat.ACTIONS[action]
        if needs_comment and not comment:
            raise HTTPException(400, f"{label}: a reason is required 請填寫原因")
        for r in rows:
            (done if r["status"] in allowed else skipped).append(r)
        if done:
            conn.execute("update marts.supervision_alerts set status = %s where alert_id = any(%s)",
                         (to_status, [r["alert_id"] for r in done]))
            with conn.cursor() as c:
                c.executemany(
                    "insert into review.alert_events (alert_id, district_code, username, action, from_status,"
                    " to_status, comment) values (%s, %s, %s, %s, %s, %s, %s)",
                    [(r["alert_id"], r["district_code"], username, action, r["status"], to_status,
                      comment or None) for r in done])
    elif action == "assign":
        target = (assignee or "").strip() or None
        if target is not None and conn.execute(
                "select 1 from review.users where username = %s and active", (target,)).fetchone() is None:
            raise HTTPException(400, "unknown assignee 無此用戶")
        for r in rows:
            conn.execute(
                "insert into review.assignments as s (alert_id, district_code, assignee, assigned_by) "
                "values (%s, %s, %s, %s) on conflict (alert_id) do update set assignee = excluded.assignee,"
                " assigned_by = excluded.assigned_by, assigned_at = now(), district_code = excluded.district_code",
                (r["alert_id"], r["district_code"], target, username))
            conn.execute(
                "insert into review.alert_events (alert_id, district_code, username, action, from_status,"
                " to_status, assignee, comment) values (%s, %s, %s, 'assign', %s, %s, %s, %s)",
                (r["alert_id"], r["district_code"], username, r["status"], r["status"], target,
                 comment or None))
            done.append(r)
    elif action == "comment":
        if not comment:
            raise HTTPException(400, "empty comment 請填寫備註")
        for r in rows:
            conn.execute(
                "insert into review.alert_events (alert_id, district_code, username, action, from_status,"
                " to_status, comment) values (%s, %s, %s, 'comment', %s, %s, %s)",
                (r["alert_id"], r["district_code"], username, r["status"], r["status"], comment))
            done.append(r)
    else:
        raise HTTPException(400, "unknown action")
    found = {r["alert_id"] for r in rows}
    return {"done": len(done), "skipped": len(skipped), "missing": len([i for i in ids if i not in found])}
