"""Verdicts that count: a scripted review session in the application (confirm some, dismiss some
with reasons, resolve, reopen, leave some open), then the dbt mart ``marts.rule_precision`` (and
``marts.rule_dismissal_reasons``) and the application's precision page both equal a count kept
by the script itself, per rule, district and month; a district user's page shows its district only."""
from __future__ import annotations

import os
import re
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone

import psycopg
import pytest

from supervision.dbt_runner import run_dbt
from tests.review.conftest import PASSWORD, csrf_of, login
from tests.review.seed import alert_id

# real dbt builds of the precision marts (10-15 s each): not in `make test-fast`
pytestmark = pytest.mark.slow

os.environ.setdefault("SUPERVISION_APP_PASSWORD", "test-app-password-1")
os.environ.setdefault("SUPERVISION_REVIEW_SESSION_SECRET", "test-session-secret-" + "x" * 24)

TZ = timezone(timedelta(hours=8))
XUHUI, PUDONG, CITY = "310104", "310115", "310000"
DETECTED = datetime(2024, 3, 20, 8, 0, tzinfo=TZ)
PLAIN_ID = "310104199001011234"

# (rule, severity, entity_type, key, district, occurred_on, active)
ALERTS = [
    ("CAMERA_DOWN", "medium", "session", "S1", XUHUI, date(2024, 3, 2), True),
    ("CAMERA_DOWN", "medium", "session", "S2", XUHUI, date(2024, 3, 5), True),
    ("CAMERA_DOWN", "medium", "session", "S3", XUHUI, date(2024, 3, 9), True),
    ("CAMERA_DOWN", "medium", "session", "S4", XUHUI, date(2024, 2, 9), True),
    ("CAMERA_DOWN", "medium", "session", "S5", PUDONG, date(2024, 3, 1), True),
    ("CAMERA_DOWN", "medium", "session", "S6", PUDONG, date(2024, 3, 3), False),
    ("INSUFFICIENT_HOURS", "high", "claim", "C1", XUHUI, date(2024, 2, 11), True),
    ("INSUFFICIENT_HOURS", "high", "claim", "C2", XUHUI, date(2024, 2, 12), True),
    ("INSUFFICIENT_HOURS", "high", "claim", "C3", PUDONG, date(2024, 3, 12), True),
    ("INVALID_ID_NUMBER", "low", "trainee", "T1", CITY, date(2024, 3, 1), True),
    ("INVALID_ID_NUMBER", "low", "trainee", "T2", CITY, date(2024, 3, 2), True),
]
AID = {key: alert_id(rule, key) for rule, _, _, key, *_ in ALERTS}
ROW = {key: (rule, district, occurred.replace(day=1), active) for rule, _, _, key, district, occurred, active in ALERTS}

# The review session: (user, action, keys, comment). Final verdicts below are what it leaves.
SESSION = [
    ("xh_reviewer", "confirm", ["S1", "S2"], ""),
    ("xh_reviewer", "dismiss", ["S3"], "  camera under maintenance,   notified in advance "),
    ("xh_reviewer", "dismiss", ["S4"], "camera under maintenance, notified in advance"),
    ("xh_reviewer", "resolve", ["C1"], ""),
    ("xh_reviewer", "confirm", ["C2"], ""),
    ("xh_reviewer", "dismiss", ["C2"], f"trainee {PLAIN_ID} was on approved leave"),
    ("xh_reviewer", "reopen", ["C2"], "second look"),
    ("xh_reviewer", "dismiss", ["C2"], f"trainee {PLAIN_ID} was on approved leave"),
    ("pd_reviewer", "confirm", ["S5"], ""),
    ("city_chief", "dismiss", ["T1"], "ID number typed by the institution, corrected"),
]
FINAL = {"S1": "confirmed", "S2": "confirmed", "S3": "dismissed", "S4": "dismissed", "S5": "confirmed",
         "S6": "withdrawn", "C1": "confirmed", "C2": "dismissed", "C3": "open", "T1": "dismissed", "T2": "open"}
REASON = {"S3": "camera under maintenance, notified in advance", "S4": "camera under maintenance, notified in advance",
          "C2": "trainee *** was on approved leave", "T1": "ID number typed by the institution, corrected"}
PRECISION_MODELS = ["build", "--select", "+rule_precision", "+rule_dismissal_reasons", "--indirect-selection", "cautious"]


@pytest.fixture
def reviewed(warehouse_db):
    """The alerts, the users, a review session through the application, and the precision marts built."""
    from fastapi.testclient import TestClient

    from supervision.access import install_security
    from supervision.review.app import create_app
    from supervision.review.users import hash_password

    url = warehouse_db
    install_security(url)
    h = hash_password(PASSWORD)
    with psycopg.connect(url) as c:
        for rule, severity, etype, key, district, occurred, active in ALERTS:
            c.execute("""insert into marts.supervision_alerts (alert_id, rule_code, severity, entity_type, entity_key,
                           district_code, occurred_on, evidence, first_detected_at, last_detected_at, is_active)
                         values (%s, %s, %s, %s, %s, %s, %s, '{}', %s, %s, %s)""",
                      (AID[key], rule, severity, etype, key, district, occurred, DETECTED, DETECTED, active))
        for name, district in (("xh_reviewer", XUHUI), ("pd_reviewer", PUDONG), ("city_chief", None)):
            c.execute("insert into review.users (username, password_hash, district_code) values (%s, %s, %s)",
                      (name, h, district))
    app = create_app(url, links_refresh_seconds=3600)
    _with_precision_router(app)
    clients = {}
    try:
        for user, action, keys, comment in SESSION:
            if user not in clients:
                clients[user] = TestClient(app, base_url="http://127.0.0.1")
                login(clients[user], user)
            client = clients[user]
            page = client.get("/alerts?active=all")
            r = client.post("/alerts/bulk", data={"ids": [AID[k] for k in keys], "action": action, "comment": comment,
                                                  "csrf_token": csrf_of(page.text)}, follow_redirects=False)
            assert r.status_code == 303, r.text[:300]
        run_dbt(PRECISION_MODELS, url)
        yield {"url": url, "clients": clients}
    finally:
        for c in clients.values():
            c.close()
        if app.state.review._pool:
            app.state.review._pool.close()


def _with_precision_router(app) -> None:
    """The precision page, where the application factory does not include it yet."""
    from supervision.review.routers import precision

    if not any(getattr(r, "name", None) == "rule_precision" for r in app.routes):
        app.include_router(precision.router)


def _decision_hours(url: str) -> dict[str, float]:
    """Hours from detection to the event that set each decided alert's final verdict, from the audit trail."""
    wanted = {"confirmed": ("confirm", "resolve"), "dismissed": ("dismiss",)}
    out = {}
    with psycopg.connect(url) as c:
        for key, verdict in FINAL.items():
            if verdict not in wanted:
                continue
            ats = [at for at, action in c.execute("select at, action from review.alert_events where alert_id = %s",
                                                  (AID[key],)).fetchall() if action in wanted[verdict]]
            out[key] = (max(ats) - DETECTED).total_seconds() / 3600
    return out


def _expected(keys, hours: dict[str, float]) -> dict:
    """Counts per (rule, district, month) from the script's own verdicts."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for k in keys:
        rule, district, month, _ = ROW[k]
        groups[(rule, district, month)].append(k)
    out = {}
    for g, ks in groups.items():
        n = Counter(FINAL[k] for k in ks)
        decided = n["confirmed"] + n["dismissed"]
        timed = [hours[k] for k in ks if k in hours]
        out[g] = {"alerts": len(ks), "active_alerts": sum(ROW[k][3] for k in ks), "open_alerts": n["open"],
                  "withdrawn_alerts": n["withdrawn"], "confirmed_alerts": n["confirmed"],
                  "resolved_alerts": sum(k == "C1" for k in ks), "dismissed_alerts": n["dismissed"],
                  "decided_alerts": decided,
                  "precision_pct": round(100 * n["confirmed"] / decided, 2) if decided else None,
                  "timed_decisions": len(timed),
                  "median_hours_to_decision": round(statistics.median(timed), 2) if timed else None}
    return out


def test_precision_mart_and_page_equal_the_scripted_session(reviewed):
    url = reviewed["url"]
    hours = _decision_hours(url)
    expected = _expected(FINAL, hours)
    cols = list(next(iter(expected.values())))
    with psycopg.connect(url) as c:
        rows = c.execute(f"select rule_code, district_code, month, {', '.join(cols)} from marts.rule_precision").fetchall()
        mart = {(r[0], r[1], r[2]): dict(zip(cols, r[3:], strict=True)) for r in rows}
        reasons = {(r[0], r[1], r[2], r[3]): r[4] for r in c.execute(
            "select rule_code, district_code, month, reason, dismissed_alerts from marts.rule_dismissal_reasons")}
        (comment,), = c.execute("select obj_description('marts.rule_precision'::regclass)").fetchall()
    assert comment and "precision" in comment   # the table's description reaches BI tools
    assert set(mart) == set(expected)
    for g, want in expected.items():
        got = mart[g]
        for k, v in want.items():
            if v is None or k in ("precision_pct", "median_hours_to_decision"):
                assert (got[k] is None) == (v is None), (g, k, got[k], v)
                if v is not None:
                    assert float(got[k]) == pytest.approx(v, abs=0.011), (g, k)
            else:
                assert got[k] == v, (g, k, got[k], v)
    # Xuhui's CAMERA_DOWN in March: S1, S2 confirmed, S3 dismissed
    assert float(mart[("CAMERA_DOWN", XUHUI, date(2024, 3, 1))]["precision_pct"]) == pytest.approx(66.67)
    want_reasons = Counter((ROW[k][0], ROW[k][1], ROW[k][2], REASON[k]) for k in REASON)
    assert reasons == dict(want_reasons)
    assert not any(PLAIN_ID in r[3] for r in reasons)

    # --- the page: the city sees every district, per rule --------------------------------------
    city_page = _page_rows(reviewed["clients"]["city_chief"].get("/precision").text)
    per_rule = _expected(FINAL, hours)
    by_rule: dict[str, Counter] = defaultdict(Counter)
    for (rule, _, _), v in per_rule.items():
        by_rule[rule].update({k: v[k] for k in ("alerts", "confirmed_alerts", "dismissed_alerts", "open_alerts",
                                                "withdrawn_alerts", "resolved_alerts")})
    assert set(city_page) == set(by_rule)
    for rule, n in by_rule.items():
        got = city_page[rule]
        assert (got["alerts"], got["confirmed"], got["dismissed"], got["open"], got["withdrawn"], got["resolved"]) == (
            n["alerts"], n["confirmed_alerts"], n["dismissed_alerts"], n["open_alerts"], n["withdrawn_alerts"],
            n["resolved_alerts"]), rule
        decided = n["confirmed_alerts"] + n["dismissed_alerts"]
        assert got["precision"] == (f"{100 * n['confirmed_alerts'] / decided:.1f}%" if decided else "—")
    timed = [hours[k] for k in ("S1", "S2", "S3", "S4", "S5")]
    # the page shows one decimal: equal to the independent median within its rounding
    assert float(city_page["CAMERA_DOWN"]["median_hours"].replace(",", "")) == pytest.approx(
        statistics.median(timed), abs=0.051)

    # --- a district user: its own district only; a month filter -----------------------------------
    xh = _page_rows(reviewed["clients"]["xh_reviewer"].get(f"/precision?district={PUDONG}").text)
    assert xh["CAMERA_DOWN"]["alerts"] == 4 and xh["CAMERA_DOWN"]["precision"] == "50.0%"
    assert "INVALID_ID_NUMBER" not in xh
    xh_march = _page_rows(reviewed["clients"]["xh_reviewer"].get("/precision?month=2024-03").text)
    assert xh_march == {"CAMERA_DOWN": xh_march["CAMERA_DOWN"]}
    assert (xh_march["CAMERA_DOWN"]["confirmed"], xh_march["CAMERA_DOWN"]["dismissed"]) == (2, 1)
    city_queue = _page_rows(reviewed["clients"]["city_chief"].get(f"/precision?district={CITY}").text)
    assert set(city_queue) == {"INVALID_ID_NUMBER"} and city_queue["INVALID_ID_NUMBER"]["open"] == 1
    zh = reviewed["clients"]["city_chief"].get("/precision").text
    assert "规则准确率" in zh and "摄像头未覆盖" in zh   # Simplified by default, rules by their names
    en = reviewed["clients"]["city_chief"].get("/precision?lang=en").text
    assert "Rule precision" in en and "Cameras down during session" in en and "规则准确率" not in en
    assert _page_rows(en) == city_page
    assert "camera under maintenance, notified in advance (2)" in reviewed["clients"]["xh_reviewer"].get(
        "/precision").text


def _page_rows(html: str) -> dict[str, dict]:
    """The precision table's cells by rule code and column key."""
    out = {}
    for rule, body in re.findall(r'<tr id="rule-[A-Z_]+" data-rule="([A-Z_]+)">(.*?)</tr>', html, re.S):
        cells = dict(re.findall(r'data-k="([a-z_]+)">([^<]*)</td>', body))
        out[rule] = {k: int(v.replace(",", "")) if v.replace(",", "").isdigit() else v for k, v in cells.items()}
    return out


def test_precision_marts_build_without_the_review_schema(warehouse_db):
    """Before the review application is installed, the marts build and every alert counts as open."""
    with psycopg.connect(warehouse_db) as c:
        c.execute("""insert into marts.supervision_alerts (alert_id, rule_code, severity, entity_type, entity_key,
                       district_code, occurred_on, evidence, first_detected_at, last_detected_at)
                     values ('x1', 'CAMERA_DOWN', 'medium', 'session', 'S1', %s, '2024-03-02', '{}', now(), now())""",
                  (XUHUI,))
        assert c.execute("select to_regclass('review.alert_events')").fetchone()[0] is None
    run_dbt(PRECISION_MODELS, warehouse_db)
    with psycopg.connect(warehouse_db) as c:
        assert c.execute("select alerts, open_alerts, decided_alerts, precision_pct from marts.rule_precision"
                         ).fetchall() == [(1, 1, 0, None)]


def test_decisions_after_a_build_without_the_review_schema_reach_the_next_daily_build(warehouse_db):
    """The review schema may arrive after the first (full) build: the review application and
    sync_roles install it after the marts. A daily build (supervision.dbt_daily: tables,
    incrementals, views below a table) must still bring the decisions taken since into the precision
    marts: the staging of the review trail is a table, rebuilt every day, not a view left reading
    nothing."""
    from fastapi.testclient import TestClient

    from supervision import dbt_daily
    from supervision.access import install_security
    from supervision.review.app import create_app
    from supervision.review.users import hash_password

    url = warehouse_db
    rule, severity, etype, key, district, occurred, _ = ALERTS[0]
    with psycopg.connect(url) as c:
        c.execute("""insert into marts.supervision_alerts (alert_id, rule_code, severity, entity_type, entity_key,
                       district_code, occurred_on, evidence, first_detected_at, last_detected_at)
                     values (%s, %s, %s, %s, %s, %s, %s, '{}', %s, %s)""",
                  (AID[key], rule, severity, etype, key, district, occurred, DETECTED, DETECTED))
    run_dbt(PRECISION_MODELS, url)  # the first build: no review schema yet
    install_security(url)
    with psycopg.connect(url) as c:
        c.execute("insert into review.users (username, password_hash, district_code) values ('city_chief', %s, null)",
                  (hash_password(PASSWORD),))
    client = TestClient(create_app(url, links_refresh_seconds=3600), base_url="http://127.0.0.1")
    login(client, "city_chief")
    page = client.get("/alerts?active=all")
    r = client.post("/alerts/bulk", data={"ids": [AID[key]], "action": "confirm", "comment": "seen on site",
                                          "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    select, exclude = dbt_daily.daily_selection("alert_marts")
    daily = " ".join(f"+rule_precision,{term}" for term in select.split())
    run_dbt(["build", "--select", daily, "--exclude", exclude, "--indirect-selection", "cautious"], url)
    with psycopg.connect(url) as c:
        # the outcome comes from the alert's status; the time to decision from the trail
        assert c.execute("select rule_code, alerts, confirmed_alerts, precision_pct, timed_decisions "
                         "from marts.rule_precision where alerts > 0").fetchall() == [(rule, 1, 1, 100, 1)]
