"""Risk review as a service: a supervisor's verdict on a risk finding, each change one audit event.

A finding is a training institution or an evaluation org in one month, as the risk page shows it
(its row in ``marts.institution_scorecard`` / ``marts.evaluation_org_quality``). Its verdict:
``confirmed`` (gaming found), ``dismissed`` (no gaming, with a reason) or, after a reopen, ``open``
again. One standing verdict per finding (``review.risk_verdicts``); every change is an event of
``review.risk_verdict_events``, and the database does the rest as for the alerts' trail
(``schema.sql``): it stamps the event with the transaction's reviewer and its own clock, checks that
the finding exists in the event's district and that the step starts from the standing verdict, and
moves the standing verdict. The application's roles can not write the standing verdicts themselves.

Runs inside the caller's ``Pool.as_user`` transaction: row-level security limits a district user
to its district's verdicts and events; the scorecards are not row-level secured, so the district of
the finding is checked here too (and by the database against the event's district).
"""
from __future__ import annotations

from datetime import date

import psycopg
from fastapi import HTTPException

from supervision.review.i18n import N_, gettext
from supervision.review.triage import COMMENT_MAX, name_reviewer

ENTITY_TYPES = {"institution": ("marts.institution_scorecard", "institution_id"),
                "evaluation_org": ("marts.evaluation_org_quality", "org_id")}
VERDICTS = ("open", "confirmed", "dismissed")
# action: (allowed from verdicts, to verdict, reason required, label message id); the database's
# review.apply_risk_verdict_event allows exactly these steps
ACTIONS: dict[str, tuple[frozenset[str], str, bool, str]] = {
    "confirm": (frozenset({"open"}), "confirmed", False, N_("Confirm: gaming found")),
    "dismiss": (frozenset({"open", "confirmed"}), "dismissed", True, N_("Dismiss: no gaming")),
    "reopen": (frozenset({"confirmed", "dismissed"}), "open", True, N_("Reopen")),
}
VERDICT_LABELS = {"open": N_("No verdict"), "confirmed": N_("Gaming found"), "dismissed": N_("Dismissed")}
VERDICT_LOCK = 7400081   # advisory lock class of a finding's verdict
# The rule_code of the risk review row in the precision figures (marts.rule_precision): not a rule,
# never in the alert table, whose rule codes are the contract's.
RISK_REVIEW = "RISK_REVIEW"
# A finding counts as open (awaiting a verdict) from this evidence_score: the dbt var
# risk_flag_points, the line at which the risk models call an institution flagged.
FLAG_POINTS = 5

_EVENT = ("insert into review.risk_verdict_events (entity_type, entity_id, month, district_code, username, action,"
          " from_verdict, to_verdict, comment) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)")


def standing_verdicts(conn, month: date | None, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """The standing verdicts of the findings ``keys`` ((entity_type, entity_id)) of ``month``, as the
    user's role sees them; {} while the verdict table is not readable."""
    if month is None or not keys:
        return {}
    try:
        with conn.transaction():
            rows = conn.execute(
                "select entity_type, entity_id, verdict, comment, decided_by, decided_at from review.risk_verdicts"
                " where month = %s and (entity_type, entity_id) in (select * from unnest(%s::text[], %s::text[]))",
                (month, [k[0] for k in keys], [k[1] for k in keys])).fetchall()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege):
        return {}
    return {(r["entity_type"], r["entity_id"]): r for r in rows}


def record_verdict(conn, username: str, user_district: str | None, entity_type: str, entity_id: str,
                   month: date, action: str, comment: str) -> str:
    """Record ``action`` on the finding (entity_type, entity_id, month); the new standing verdict.

    404: no such finding (or not in the user's district); 400: an unknown action or a missing
    reason; 409: not allowed from the standing verdict, or it changed meanwhile."""
    if entity_type not in ENTITY_TYPES:
        raise HTTPException(400, gettext("Unknown kind of finding."))
    if action not in ACTIONS:
        raise HTTPException(400, gettext("Unknown action."))
    allowed, to_verdict, needs_reason, _label = ACTIONS[action]
    comment = (comment or "").strip()[:COMMENT_MAX]
    if needs_reason and not comment:
        raise HTTPException(400, gettext("A reason is required."))
    table, key = ENTITY_TYPES[entity_type]
    name_reviewer(conn, username)
    # one verdict at a time per finding: the standing verdict read next is the latest (the database
    # checks the event's from_verdict all the same)
    conn.execute("select pg_advisory_xact_lock(%s, hashtext(%s))",
                 (VERDICT_LOCK, f"{entity_type}|{entity_id}|{month.isoformat()}"))
    try:
        with conn.transaction():
            finding = conn.execute(f"select district_code from {table} where {key} = %s and month = %s",
                                   (entity_id, month)).fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege) as err:
        raise HTTPException(503, gettext("The scorecards are not built or not readable yet.")) from err
    if finding is None or (user_district is not None and finding["district_code"] != user_district):
        raise HTTPException(404, gettext("No such finding (or not in your district)."))
    row = conn.execute("select verdict from review.risk_verdicts where entity_type = %s and entity_id = %s"
                       " and month = %s", (entity_type, entity_id, month)).fetchone()
    standing = row["verdict"] if row else "open"
    if standing not in allowed:
        raise HTTPException(409, gettext("That action is not allowed from the finding's current verdict."))
    try:
        conn.execute(_EVENT, (entity_type, entity_id, month, finding["district_code"], username, action, standing,
                              to_verdict, comment or None))
    except psycopg.errors.CheckViolation as err:   # the verdict or the scorecard changed under us
        raise HTTPException(409, gettext("The finding's verdict changed meanwhile: reload and try again.")) from err
    return to_verdict
