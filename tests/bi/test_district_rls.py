"""District isolation through the database logins: a district reviewer sees its district's alerts only.

The policies are ``supervision.access.rls.install_security``'s (run by ``sync_roles``); the login
roles ``reviewer_<code>`` / ``reviewer_city`` inherit its group roles; BI has its own read-all policy.
"""
from __future__ import annotations

import importlib
import json
from datetime import datetime, timezone

import psycopg
import pytest

from supervision.access import BI_ROLE, REVIEWER_CITY, district_reviewer
from tests.bi.conftest import connect_as

ROWS = {"310101": 3, "310104": 2, "310115": 4, "310000": 1}


def test_review_security_module_is_there():
    """sync_roles installs the RLS policies from supervision.access.rls: it must be importable."""
    try:
        module = importlib.import_module("supervision.access.rls")
    except ImportError as err:
        pytest.fail(f"supervision.access.rls is missing ({err}): district row-level security is not installed")
    assert callable(getattr(module, "install_security", None))


def _insert_alerts(url: str) -> None:
    now = datetime(2024, 3, 5, tzinfo=timezone.utc)
    with psycopg.connect(url, autocommit=True) as c:
        for district, n in ROWS.items():
            for i in range(n):
                c.execute("""insert into marts.supervision_alerts (alert_id, rule_code, severity, entity_type,
                             entity_key, district_code, occurred_on, evidence, first_detected_at, last_detected_at)
                             values (%s, 'CAMERA_DOWN', 'medium', 'session', %s, %s, '2024-03-04', %s, %s, %s)""",
                          (f"a{district}{i:02d}", f"S{district}{i}", district, json.dumps({"i": i}), now, now))


def _visible(role: str, url: str) -> dict[str, int]:
    with connect_as(role, url) as c:
        rows = c.execute("select district_code, count(*) from marts.supervision_alerts group by 1").fetchall()
    return {d: n for d, n in rows}


def test_district_reviewers_see_only_their_district_and_the_city_sees_all(synced_warehouse):
    _insert_alerts(synced_warehouse)
    for code in ("310101", "310104", "310115"):
        assert _visible(district_reviewer(code), synced_warehouse) == {code: ROWS[code]}
    assert _visible(district_reviewer("310151"), synced_warehouse) == {}  # a district without alerts
    assert _visible(REVIEWER_CITY, synced_warehouse) == ROWS
    assert _visible(BI_ROLE, synced_warehouse) == ROWS


def test_a_district_reviewer_can_not_take_another_districts_role(synced_warehouse):
    _insert_alerts(synced_warehouse)
    with connect_as(district_reviewer("310101"), synced_warehouse) as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("set role supervision_district_310104")
        c.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("set role supervision_city")
        c.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("select * from raw_training.sessions")
        c.rollback()
        # its district's filter can not be widened by the session either
        c.execute("select set_config('supervision.district', '310104', false)")
        n = c.execute("select count(*) from marts.supervision_alerts where district_code <> '310101'").fetchone()[0]
        assert n == 0


def test_reviewer_logins_only_read_status_changes_go_through_the_review_app(synced_warehouse):
    _insert_alerts(synced_warehouse)
    for role in (district_reviewer("310101"), REVIEWER_CITY):
        with connect_as(role, synced_warehouse) as c:
            with c.transaction():
                c.execute("set transaction read write")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    c.execute("update marts.supervision_alerts set status = 'dismissed'")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute("select * from review.alert_events")
