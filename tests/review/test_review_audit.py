"""The audit trail the database guarantees, tried as the application's own database role: an event's
user and time are the database's, a status or assignment changes only with its event, and each
forgery is refused or overridden."""
from __future__ import annotations

from datetime import datetime, timezone

import psycopg
import pytest

from .conftest import CITY, HP_USER, PD_USER, as_app
from .seed import HUANGPU, PUDONG

EVENT = ("insert into review.alert_events (alert_id, district_code, username, at, action, from_status, to_status,"
         " assignee, comment) values (%s, %s, %s, %s, %s, %s, %s, %s, %s) returning event_id")


def status_of(url: str, alert_id: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("select status from marts.supervision_alerts where alert_id = %s", (alert_id,)).fetchone()[0]


def event(url: str, event_id: int) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute("select username, at from review.alert_events where event_id = %s",
                            (event_id,)).fetchone()


def db_role(url: str, event_id: int) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("select db_role from review.alert_events where event_id = %s", (event_id,)).fetchone()[0]


PD_ROLE, HP_ROLE = f"supervision_district_{PUDONG}", f"supervision_district_{HUANGPU}"


def test_the_events_user_and_time_come_from_the_database(seeded):
    url, a = seeded["url"], seeded["claim"]
    forged_at = datetime(2001, 1, 1, tzinfo=timezone.utc)
    before = datetime.now(timezone.utc)
    with as_app(url, PD_ROLE, PD_USER) as conn:      # another user's name and a chosen time in the row
        eid = conn.execute(EVENT, (a, PUDONG, "pd_colleague", forged_at, "comment", "open", "open", None,
                                   "written as someone else, long ago")).fetchone()[0]
    username, at = event(url, eid)
    assert username == PD_USER
    assert before <= at <= datetime.now(timezone.utc)
    assert db_role(url, eid) == PD_ROLE
    # the reviewer named for the transaction must be an active user of the very role it runs as
    for role, actor in ((PD_ROLE, None), (PD_ROLE, ""), (PD_ROLE, HP_USER), (PD_ROLE, CITY), (PD_ROLE, "nobody"),
                        ("supervision_city", "pd_colleague"), (HP_ROLE, PD_USER)):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_app(url, role, actor) as conn:
            conn.execute(EVENT, (a, PUDONG, actor or PD_USER, None, "comment", "open", "open", None, "x"))
    with psycopg.connect(url) as conn:
        conn.execute("update review.users set active = false where username = 'pd_colleague'")
        conn.commit()
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not an active user"), \
            as_app(url, PD_ROLE, "pd_colleague") as conn:
        conn.execute(EVENT, (a, PUDONG, "pd_colleague", None, "comment", "open", "open", None, "x"))
    # a city user acts as the city role, on any district's alert
    with as_app(url, "supervision_city", CITY) as conn:
        eid = conn.execute(EVENT, (seeded["exam"], HUANGPU, HP_USER, forged_at, "comment", "open", "open", None,
                                   "city note")).fetchone()[0]
    assert event(url, eid)[0] == CITY


def test_a_status_or_assignment_changes_only_with_its_event(seeded):
    url, a, other = seeded["url"], seeded["headcount"], seeded["exam"]
    for role, actor in ((PD_ROLE, PD_USER), ("supervision_city", CITY)):
        for stmt in ("update marts.supervision_alerts set status = 'confirmed'",
                     "update marts.supervision_alerts set status = 'confirmed' where alert_id = %(a)s",
                     "insert into review.assignments (alert_id, district_code, assignee, assigned_by) "
                     "values (%(a)s, '310115', 'pd_colleague', 'someone')",
                     "update review.assignments set assignee = 'x'"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), as_app(url, role, actor) as conn:
                conn.execute(stmt, {"a": a})
    assert status_of(url, a) == "open"
    # the event is what moves the status, and sets the assignment
    with as_app(url, PD_ROLE, PD_USER) as conn:
        conn.execute(EVENT, (a, PUDONG, PD_USER, None, "confirm", "open", "confirmed", None, None))
        conn.execute(EVENT, (a, PUDONG, PD_USER, None, "assign", "confirmed", "confirmed", "pd_colleague", None))
    assert status_of(url, a) == "confirmed"
    with psycopg.connect(url) as conn:
        assert conn.execute("select assignee, assigned_by from review.assignments where alert_id = %s",
                            (a,)).fetchone() == ("pd_colleague", PD_USER)
    # events that do not match the alert are refused, and change nothing
    forgeries = [
        (a, PUDONG, "confirm", "open", "confirmed"),          # the alert is confirmed, not open
        (a, PUDONG, "resolve", "confirmed", "open"),           # not a triage step
        (a, PUDONG, "confirm", "dismissed", "confirmed"),      # nor this
        (a, PUDONG, "comment", "confirmed", "resolved"),       # a comment does not change the status
        (a, PUDONG, "assign", "confirmed", "open"),            # nor does an assignment
        (other, PUDONG, "confirm", "open", "confirmed"),       # Huangpu's alert, claimed to be Pudong's
        ("no-such-alert", PUDONG, "confirm", "open", "confirmed"),
    ]
    for alert, district, action, frm, to in forgeries:
        with pytest.raises((psycopg.errors.CheckViolation, psycopg.errors.ForeignKeyViolation)), \
                as_app(url, PD_ROLE, PD_USER) as conn:
            conn.execute(EVENT, (alert, district, PD_USER, None, action, frm, to, None, "forged"))
    assert status_of(url, a) == "confirmed" and status_of(url, other) == "open"
    # even a role granted UPDATE would be refused by the database
    with psycopg.connect(url) as conn:
        conn.execute(f"grant update (status) on marts.supervision_alerts to {PD_ROLE}")
        conn.commit()
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only through its event"), \
                as_app(url, PD_ROLE, PD_USER) as conn:
            conn.execute("update marts.supervision_alerts set status = 'open' where alert_id = %s", (a,))
    finally:
        with psycopg.connect(url) as conn:
            conn.execute(f"revoke update (status) on marts.supervision_alerts from {PD_ROLE}")
            conn.commit()
    assert status_of(url, a) == "confirmed"


def test_a_statement_of_events_applies_whole_or_not_at_all(seeded):
    url, a, b = seeded["url"], seeded["claim"], seeded["face"]
    rows = "values (%s, '310115', 'x', 'confirm', 'open', 'confirmed'), (%s, '310115', 'x', {})"
    insert = "insert into review.alert_events (alert_id, district_code, username, action, from_status, to_status) "
    for second in ("'resolve', 'confirmed', 'resolved'",     # b is open, not confirmed
                   "'resolve', 'open', 'open'"):              # not a triage step
        with pytest.raises(psycopg.errors.CheckViolation), as_app(url, PD_ROLE, PD_USER) as conn:
            conn.execute(insert + rows.format(second), (a, b))
    with pytest.raises(psycopg.errors.CheckViolation, match="one event per alert"), \
            as_app(url, PD_ROLE, PD_USER) as conn:               # two steps of one alert at once
        conn.execute(insert + rows.format("'resolve', 'confirmed', 'resolved'"), (a, a))
    assert status_of(url, a) == status_of(url, b) == "open"
    with as_app(url, PD_ROLE, PD_USER) as conn:
        conn.execute(insert + rows.format("'resolve', 'open', 'resolved'"), (a, b))
    assert (status_of(url, a), status_of(url, b)) == ("confirmed", "resolved")


def test_the_databases_triage_steps_are_the_catalogues(seeded):
    from supervision.review import catalogue as cat

    url, a = seeded["url"], seeded["camera"]
    for action, (allowed, to_status, *_rest) in cat.ACTIONS.items():
        for frm in cat.STATUSES:
            with psycopg.connect(url) as conn:          # the owner may set a status (maintenance)
                conn.execute("update marts.supervision_alerts set status = %s where alert_id = %s", (frm, a))
                conn.commit()
            try:
                with as_app(url, PD_ROLE, PD_USER) as conn:
                    conn.execute(EVENT, (a, PUDONG, PD_USER, None, action, frm, to_status, None, "why"))
                accepted = True
            except psycopg.errors.CheckViolation:
                accepted = False
            assert accepted == (frm in allowed), (action, frm)
            assert status_of(url, a) == (to_status if accepted else frm)


def test_the_application_writes_its_events_through_the_database(make_client, seeded):
    """Through the web routes: each event is the logged-in user's, stamped by the database."""
    from .conftest import csrf_of

    url, a = seeded["url"], seeded["face"]
    c = make_client(PD_USER)
    token = csrf_of(c.get(f"/alerts/{a}").text)
    r = c.post(f"/alerts/{a}/triage", data={"action": "confirm", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and status_of(url, a) == "confirmed"
    with psycopg.connect(url) as conn:
        assert conn.execute("select username, db_role from review.alert_events where alert_id = %s",
                            (a,)).fetchall() == [(PD_USER, PD_ROLE)]


def test_concurrent_triage_of_one_alert_is_serialised(seeded):
    """Two reviewers confirm the same alert at once: one event, the other finds it confirmed (skipped)."""
    import threading

    from psycopg.rows import dict_row

    from supervision.access import app_url
    from supervision.review.triage import apply_action

    url, a = seeded["url"], seeded["camera"]
    first = psycopg.connect(app_url(url), row_factory=dict_row)
    first.execute(f"set local role {PD_ROLE}")
    assert apply_action(first, PD_USER, [a], "confirm", "", None)["done"] == 1    # holds the alert's lock
    result: dict = {}

    def second():
        with psycopg.connect(app_url(url), row_factory=dict_row) as conn, conn.transaction():
            conn.execute(f"set local role {PD_ROLE}")
            result.update(apply_action(conn, "pd_colleague", [a], "confirm", "", None))
    t = threading.Thread(target=second)
    t.start()
    t.join(1.0)
    assert t.is_alive()             # waits for the first reviewer's transaction
    first.commit()
    first.close()
    t.join(10)
    assert result == {"done": 0, "skipped": 1, "missing": 0}
    with psycopg.connect(url) as conn:
        assert conn.execute("select username from review.alert_events where alert_id = %s", (a,)).fetchall() == [
            (PD_USER,)]


def test_a_fresh_review_schema_leaves_no_security_definer_function_to_public(warehouse_db):
    """The functions that run as the owner (one returns password hashes) are callable only by the roles
    ``install_security`` grants them to, also before it ran (``supervision users`` applies the schema alone)."""
    from supervision.review.schema import install

    url = warehouse_db
    install(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop role if exists t_outsider")
        conn.execute("create role t_outsider")
        try:
            callable_by_outsider = conn.execute(
                "select proname from pg_proc where pronamespace = 'review'::regnamespace and prosecdef"
                " and prorettype <> 'trigger'::regtype and has_function_privilege('t_outsider', oid, 'execute')"
            ).fetchall()
        finally:
            conn.execute("drop role t_outsider")
    assert callable_by_outsider == []
