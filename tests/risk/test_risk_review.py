"""Risk review verdicts (supervision.review.risk_review, schema.sql, routers/risk.py): the guarantees the
database gives their trail (append-only, reviewer and time stamped, no UPDATE for the application's
roles, a district only for its own findings), the risk page's round trip, and a scripted review session
whose own counts the precision mart's RISK_REVIEW rows, the dismissal-reasons mart and the precision page
equal."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime, timezone

import psycopg
import pytest

from tests.review.conftest import (  # noqa: F401 (review_db: a fixture)
    CITY,
    HP_USER,
    PD_USER,
    add_test_users,
    as_app,
    csrf_of,
    login,
    review_db,
)
from tests.review.seed import HUANGPU, PUDONG
from tests.risk.test_risk_page import RISK_MARTS_DDL

M2, M3 = date(2024, 2, 1), date(2024, 3, 1)
PD_ROLE, HP_ROLE = f"supervision_district_{PUDONG}", f"supervision_district_{HUANGPU}"
PLAIN_ID = "310115199001011234"

# (kind, id, district, month, evidence_score): flagged from 5 points (FLAG_POINTS, the dbt var risk_flag_points)
FINDINGS = [
    ("institution", "P1", PUDONG, M3, 25), ("institution", "P2", PUDONG, M3, 6), ("institution", "P3", PUDONG, M3, 0),
    ("institution", "P4", PUDONG, M3, 5), ("institution", "P5", PUDONG, M3, 7), ("institution", "P1", PUDONG, M2, 12),
    ("institution", "H1", HUANGPU, M3, 9), ("institution", "H2", HUANGPU, M3, 2), ("institution", "H3", HUANGPU, M3, 1),
    ("evaluation_org", "O1", PUDONG, M3, 6.1), ("evaluation_org", "O2", HUANGPU, M3, 3),
]
DISTRICT = {(k, i, m): d for k, i, d, m, _ in FINDINGS}
FLAGGED = {(k, i, m) for k, i, _, m, ev in FINDINGS if ev >= 5}

# The review session: (user, action, kind, id, month, comment)
SESSION = [
    (PD_USER, "confirm", "institution", "P1", M3, ""),
    (PD_USER, "dismiss", "institution", "P2", M3, "  a training park: several schools   share the address "),
    (PD_USER, "confirm", "institution", "P3", M3, "confirmed below the line"),
    (PD_USER, "confirm", "institution", "P5", M3, ""),
    (PD_USER, "reopen", "institution", "P5", M3, "second look"),
    (PD_USER, "confirm", "evaluation_org", "O1", M3, ""),
    (PD_USER, "dismiss", "evaluation_org", "O1", M3, f"employer assessing its own staff, see {PLAIN_ID}"),
    (PD_USER, "confirm", "institution", "P1", M2, ""),
    (CITY, "dismiss", "institution", "H2", M3, "a pathway programme of the city"),
    (CITY, "dismiss", "institution", "H1", M3, "looked fine"),
    (CITY, "reopen", "institution", "H1", M3, "new evidence arrived"),
    (CITY, "confirm", "evaluation_org", "O2", M3, ""),
    (CITY, "reopen", "evaluation_org", "O2", M3, "wrong org"),
]
REASON = {("institution", "P2", M3): "a training park: several schools share the address",
          ("evaluation_org", "O1", M3): "employer assessing its own staff, see ***",
          ("institution", "H2", M3): "a pathway programme of the city"}
TO = {"confirm": "confirmed", "dismiss": "dismissed", "reopen": "open"}


def _scorecards(findings) -> str:
    rows_i = ", ".join(f"('{i}', '{d}', '{m}', 20, 0, 0, 0, 0, {ev}, {ev}, 'C')" for k, i, d, m, ev in findings
                       if k == "institution")
    rows_o = ", ".join(f"('{i}', '{d}', '{m}', 12, 0, 0, 0, 0, {ev}, {ev}, 'C')" for k, i, d, m, ev in findings
                       if k == "evaluation_org")
    return RISK_MARTS_DDL + f"""
insert into marts.institution_scorecard values {rows_i};
insert into marts.evaluation_org_quality values {rows_o};
"""


@pytest.fixture
def risk_db(review_db):  # noqa: F811 (the fixture imported above)
    """The review schema and security, the scorecards of FINDINGS, the test users; security applied again
    so that the review roles read the scorecards (as at the application's start after a marts build)."""
    from supervision.access import install_security

    with psycopg.connect(review_db, autocommit=True) as conn:
        conn.execute(_scorecards(FINDINGS))
    install_security(review_db)
    add_test_users(review_db)
    return review_db


@pytest.fixture
def risk_app(risk_db):
    from fastapi.testclient import TestClient

    from supervision.review.app import create_app

    app = create_app(risk_db, links_refresh_seconds=3600)
    clients: dict[str, TestClient] = {}

    def client(user: str) -> TestClient:
        if user not in clients:
            clients[user] = TestClient(app, base_url="http://127.0.0.1")
            login(clients[user], user)
        return clients[user]
    yield risk_db, client
    for c in clients.values():
        c.close()
    if app.state.review._pool:
        app.state.review._pool.close()


EVENT = ("insert into review.risk_verdict_events (entity_type, entity_id, month, district_code, username, at, action,"
         " from_verdict, to_verdict, comment) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning event_id")


def verdict_of(url: str, kind: str, entity: str, month: date) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("select verdict from review.risk_verdicts where entity_type = %s and entity_id = %s"
                           " and month = %s", (kind, entity, month)).fetchone()
    return row[0] if row else None


def test_the_database_stamps_each_verdict_and_refuses_any_other_change(risk_db):
    url = risk_db
    forged_at = datetime(2001, 1, 1, tzinfo=timezone.utc)
    before = datetime.now(timezone.utc)
    with as_app(url, PD_ROLE, PD_USER) as conn:      # another user's name and a chosen time in the row
        eid = conn.execute(EVENT, ("institution", "P1", M3, PUDONG, "pd_colleague", forged_at, "confirm", "open",
                                   "confirmed", None)).fetchone()[0]
    with psycopg.connect(url) as conn:
        username, at, role, score, evidence = conn.execute(
            "select username, at, db_role, risk_score, evidence_score from review.risk_verdict_events"
            " where event_id = %s", (eid,)).fetchone()
        standing = conn.execute("select verdict, decided_by, decided_at, event_id from review.risk_verdicts"
                                " where entity_id = 'P1' and month = %s", (M3,)).fetchone()
    assert (username, role, float(score), float(evidence)) == (PD_USER, PD_ROLE, 25.0, 25.0)
    assert before <= at <= datetime.now(timezone.utc)
    assert standing == ("confirmed", PD_USER, at, eid)
    # the reviewer named for the transaction must be an active user of the very role it runs as
    for role, actor in ((PD_ROLE, None), (PD_ROLE, HP_USER), (PD_ROLE, CITY), ("supervision_city", PD_USER)):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_app(url, role, actor) as conn:
            conn.execute(EVENT, ("institution", "P2", M3, PUDONG, PD_USER, None, "confirm", "open", "confirmed", None))
    # no UPDATE, DELETE or direct write for the application's roles; the trail refuses even its owner
    for role, actor in ((PD_ROLE, PD_USER), ("supervision_city", CITY)):
        for stmt in ("update review.risk_verdicts set verdict = 'dismissed'",
                     "delete from review.risk_verdicts",
                     "insert into review.risk_verdicts (entity_type, entity_id, month, district_code, verdict,"
                     " decided_by, decided_at, event_id) values ('institution', 'P2', '2024-03-01', '310115',"
                     " 'confirmed', 'x', now(), 1)",
                     "update review.risk_verdict_events set comment = 'x'",
                     "delete from review.risk_verdict_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), as_app(url, role, actor) as conn:
                conn.execute(stmt)
    with psycopg.connect(url) as conn:
        for stmt in ("update review.risk_verdict_events set comment = 'x'", "delete from review.risk_verdict_events",
                     "truncate review.risk_verdict_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"), conn.transaction():
                conn.execute(stmt)
    assert verdict_of(url, "institution", "P1", M3) == "confirmed"
    # steps that do not match the standing verdict or the finding are refused and change nothing
    forgeries = [
        ("institution", "P1", M3, PUDONG, "confirm", "open", "confirmed", None),          # it is confirmed
        ("institution", "P1", M3, PUDONG, "confirm", "confirmed", "confirmed", None),     # not a step
        ("institution", "P1", M3, PUDONG, "reopen", "confirmed", "dismissed", "x"),       # nor this
        ("institution", "P2", M3, PUDONG, "reopen", "dismissed", "open", "x"),            # P2 has no verdict
        ("institution", "NOPE", M3, PUDONG, "confirm", "open", "confirmed", None),        # no such finding
        ("institution", "H1", M3, PUDONG, "confirm", "open", "confirmed", None),          # Huangpu's, claimed Pudong's
        ("institution", "P1", date(2024, 1, 1), PUDONG, "confirm", "open", "confirmed", None),   # no scorecard row
    ]
    for kind, entity, month, district, action, frm, to, comment in forgeries:
        with pytest.raises(psycopg.errors.CheckViolation), as_app(url, PD_ROLE, PD_USER) as conn:
            conn.execute(EVENT, (kind, entity, month, district, PD_USER, None, action, frm, to, comment))
    with pytest.raises(psycopg.errors.CheckViolation), as_app(url, PD_ROLE, PD_USER) as conn:   # a reason to dismiss
        conn.execute(EVENT, ("institution", "P2", M3, PUDONG, PD_USER, None, "dismiss", "open", "dismissed", "  "))
    assert verdict_of(url, "institution", "P1", M3) == "confirmed"
    assert verdict_of(url, "institution", "H1", M3) is verdict_of(url, "institution", "P2", M3) is None


def test_a_district_decides_and_sees_its_own_findings_only(risk_db):
    from psycopg.rows import dict_row

    from supervision.access import app_url
    from supervision.review.risk_review import record_verdict

    url = risk_db
    # Huangpu's finding under Huangpu's district code, written by Pudong's role: row-level security refuses it
    with pytest.raises(psycopg.errors.InsufficientPrivilege), as_app(url, PD_ROLE, PD_USER) as conn:
        conn.execute(EVENT, ("institution", "H1", M3, HUANGPU, PD_USER, None, "confirm", "open", "confirmed", None))
    with as_app(url, "supervision_city", CITY) as conn:     # the city decides any district's finding
        conn.execute(EVENT, ("institution", "H1", M3, HUANGPU, CITY, None, "confirm", "open", "confirmed", None))
    with as_app(url, HP_ROLE, HP_USER) as conn:
        conn.execute(EVENT, ("institution", "H2", M3, HUANGPU, HP_USER, None, "dismiss", "open", "dismissed", "ok"))
    with as_app(url, PD_ROLE, PD_USER) as conn:
        conn.execute(EVENT, ("institution", "P2", M3, PUDONG, PD_USER, None, "confirm", "open", "confirmed", None))
        assert conn.execute("select entity_id from review.risk_verdicts order by 1").fetchall() == [("P2",)]
        assert conn.execute("select entity_id from review.risk_verdict_events order by 1").fetchall() == [("P2",)]
    with as_app(url, "supervision_city", CITY) as conn:
        assert [r[0] for r in conn.execute("select entity_id from review.risk_verdicts order by 1")] == ["H1", "H2", "P2"]
    # the service: a district user is told there is no such finding in another district
    from fastapi import HTTPException

    with psycopg.connect(app_url(url), row_factory=dict_row) as conn, conn.transaction():
        conn.execute(f"set local role {PD_ROLE}")
        with pytest.raises(HTTPException) as e:
            record_verdict(conn, PD_USER, PUDONG, "institution", "H3", M3, "confirm", "")
        assert e.value.status_code == 404
    assert verdict_of(url, "institution", "H3", M3) is None


def test_the_risk_page_records_and_shows_the_verdicts(risk_app):
    url, client = risk_app
    pd = client(PD_USER)
    page = pd.get("/risk")
    assert page.status_code == 200, page.text[:500]
    html = page.text
    assert 'id="institution-P1"' in html and 'name="csrf_token"' in html and 'id="institution-H1"' not in html
    assert _verdicts(html) == {"institution-P1": "open", "institution-P2": "open", "institution-P3": "open",
                               "institution-P4": "open", "institution-P5": "open", "evaluation_org-O1": "open"}
    form = {"entity_type": "institution", "entity_id": "P1", "month": "2024-03-01", "action": "confirm",
            "comment": "ghost trainees on the claims", "csrf_token": csrf_of(html)}
    assert pd.post("/risk/verdict", data={**form, "csrf_token": "forged"}).status_code == 403
    r = pd.post("/risk/verdict", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/risk#institution-P1")
    html = pd.get("/risk").text
    assert _verdicts(html)["institution-P1"] == "confirmed"
    assert "发现违规" in html and "ghost trainees on the claims" in html   # Simplified by default, with the note
    assert "Gaming found" in pd.get("/risk?lang=en").text
    # a dismissal needs a reason; a step the standing verdict does not allow is refused
    token = csrf_of(html)
    assert pd.post("/risk/verdict", data={**form, "action": "dismiss", "comment": " ", "csrf_token": token}
                   ).status_code == 400
    assert pd.post("/risk/verdict", data={**form, "action": "confirm", "csrf_token": token}).status_code == 409
    r = pd.post("/risk/verdict", data={**form, "action": "dismiss", "comment": "a model school", "csrf_token": token},
                follow_redirects=False)
    assert r.status_code == 303 and verdict_of(url, "institution", "P1", M3) == "dismissed"
    # another district's finding does not exist for Pudong; the city decides it
    assert pd.post("/risk/verdict", data={**form, "entity_id": "H1", "csrf_token": token}).status_code == 404
    city = client(CITY)
    r = city.post("/risk/verdict", data={**form, "entity_id": "H1", "comment": "", "district": HUANGPU,
                                         "csrf_token": csrf_of(city.get("/risk").text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(f"/risk?district={HUANGPU}#institution-H1")
    assert _verdicts(city.get(f"/risk?district={HUANGPU}").text)["institution-H1"] == "confirmed"
    with psycopg.connect(url) as conn:
        assert conn.execute("select entity_id, username, action, db_role from review.risk_verdict_events"
                            " order by event_id").fetchall() == [
            ("P1", PD_USER, "confirm", PD_ROLE), ("P1", PD_USER, "dismiss", PD_ROLE),
            ("H1", CITY, "confirm", "supervision_city")]


def _verdicts(html: str) -> dict[str, str]:
    """Each finding row's standing verdict on the risk page."""
    return dict(re.findall(r'<tr id="([a-z_]+-[A-Z0-9]+)">.*?data-verdict="([a-z]+)"', html, re.S))


def _final() -> dict[tuple, str]:
    """The standing verdict the script leaves on each finding it touched."""
    out: dict[tuple, str] = {}
    for _user, action, kind, entity, month, _comment in SESSION:
        out[(kind, entity, month)] = TO[action]
    return out


def _expected() -> dict[tuple, dict]:
    """The script's own counts per (district, month): every finding flagged or with a verdict."""
    final = _final()
    out: dict[tuple, Counter] = defaultdict(Counter)
    for key in FLAGGED | set(final):
        verdict = final.get(key, "open")
        outcome = verdict if verdict != "open" else ("open" if key in FLAGGED else "withdrawn")
        n = out[(DISTRICT[key], key[2])]
        n["alerts"] += 1
        n["active_alerts"] += key in FLAGGED
        n[f"{outcome}_alerts"] += 1
    return {g: {k: n[k] for k in ("alerts", "active_alerts", "open_alerts", "withdrawn_alerts", "confirmed_alerts",
                                  "dismissed_alerts")} for g, n in out.items()}


@pytest.mark.slow  # not in `make test-fast`: the precision marts built by dbt
def test_precision_mart_risk_rows_equal_the_scripted_session(risk_app):
    from supervision.dbt_runner import run_dbt

    url, client = risk_app
    for user, action, kind, entity, month, comment in SESSION:
        c = client(user)
        r = c.post("/risk/verdict", data={"entity_type": kind, "entity_id": entity, "month": month.isoformat(),
                                          "action": action, "comment": comment,
                                          "csrf_token": csrf_of(c.get("/risk").text)}, follow_redirects=False)
        assert r.status_code == 303, (user, action, entity, r.text[:300])
    # the marts alone: the scorecards here are the test's own tables (dbt would rebuild them empty)
    run_dbt(["build", "--select", "rule_catalogue", "stg_alerts__supervision_alerts", "stg_review__alert_events",
             "stg_review__risk_verdicts", "rule_precision", "rule_dismissal_reasons",
             "--indirect-selection", "cautious"], url)
    expected = _expected()
    assert expected[(PUDONG, M3)]["open_alerts"] == 2 and expected[(HUANGPU, M3)]["withdrawn_alerts"] == 1
    cols = [*next(iter(expected.values())), "resolved_alerts", "decided_alerts", "precision_pct", "timed_decisions"]
    with psycopg.connect(url) as c:
        rows = c.execute(f"select district_code, month, {', '.join(cols)}, rule_label_zh, severity"
                         " from marts.rule_precision where rule_code = 'RISK_REVIEW'").fetchall()
        reasons = {(r[0], r[1], r[2]): r[3] for r in c.execute(
            "select district_code, month, reason, dismissed_alerts from marts.rule_dismissal_reasons"
            " where rule_code = 'RISK_REVIEW'")}
        assert c.execute("select count(*) from marts.rule_precision where rule_code <> 'RISK_REVIEW'").fetchone()[0] == 0
    mart = {(r[0], r[1]): dict(zip([*cols, "label", "severity"], r[2:], strict=True)) for r in rows}
    assert set(mart) == set(expected)
    for g, want in expected.items():
        got = mart[g]
        assert {k: got[k] for k in want} == want, g
        decided = want["confirmed_alerts"] + want["dismissed_alerts"]
        assert got["decided_alerts"] == decided and got["resolved_alerts"] == got["timed_decisions"] == 0
        assert (got["precision_pct"] is None) == (decided == 0)
        if decided:
            assert float(got["precision_pct"]) == pytest.approx(100 * want["confirmed_alerts"] / decided, abs=0.006)
        assert (got["label"], got["severity"]) == ("风险复核", None)
    final = _final()
    assert reasons == dict(Counter((DISTRICT[k], k[2], REASON[k]) for k, v in final.items() if v == "dismissed"))
    assert not any(PLAIN_ID in r[2] for r in reasons)

    # --- the precision page shows the same row, live: the city over every district, a district its own ---
    def page_row(user: str, query: str = "") -> dict:
        html = client(user).get("/precision" + query).text
        m = re.search(r'<tr id="rule-RISK_REVIEW" data-rule="RISK_REVIEW">(.*?)</tr>', html, re.S)
        assert m, html[:300]
        return {k: int(v) if v.isdigit() else v for k, v in re.findall(r'data-k="([a-z_]+)">([^<]*)</td>', m.group(1))}

    def summed(groups) -> dict:
        n: Counter = Counter()
        for g in groups:
            n.update(expected[g])
        decided = n["confirmed_alerts"] + n["dismissed_alerts"]
        return {"alerts": n["alerts"], "confirmed": n["confirmed_alerts"], "dismissed": n["dismissed_alerts"],
                "open": n["open_alerts"], "withdrawn": n["withdrawn_alerts"], "resolved": 0,
                "precision": f"{100 * n['confirmed_alerts'] / decided:.1f}%" if decided else "—"}

    keys = ("alerts", "confirmed", "dismissed", "open", "withdrawn", "resolved", "precision")
    city = page_row(CITY, "?lang=en")
    assert {k: city[k] for k in keys} == summed(expected)
    pd = page_row(PD_USER, f"?district={HUANGPU}")         # a district user's own district, whatever it asks
    assert {k: pd[k] for k in keys} == summed([g for g in expected if g[0] == PUDONG])
    pd_march = page_row(PD_USER, "?month=2024-03")
    assert {k: pd_march[k] for k in keys} == summed([(PUDONG, M3)])
    hp_city = page_row(CITY, f"?district={HUANGPU}")
    assert {k: hp_city[k] for k in keys} == summed([(HUANGPU, M3)])
    assert "风险复核" in client(CITY).get("/precision?lang=zh-Hans").text


def test_flag_points_are_the_dbt_var():
    """The page's open findings use the line the marts read from dbt's var risk_flag_points (the precision
    mart's open findings, the org link feature, the scorecards' cap on the rule part)."""
    from pathlib import Path

    from supervision.review.risk_review import FLAG_POINTS

    root = Path(__file__).resolve().parents[2] / "dbt_project"
    # the scorecards' combination is one macro (macros/risk_score.sql), which both of them call
    for model in ("models/marts/rule_precision.sql", "models/risk/int_risk_org_links.sql", "macros/risk_score.sql"):
        sql = (root / model).read_text(encoding="utf-8")
        assert f"var('risk_flag_points', {FLAG_POINTS})" in sql, model
    for model in ("models/marts/institution_scorecard.sql", "models/marts/evaluation_org_quality.sql"):
        assert "{{ risk_score_sql(" in (root / model).read_text(encoding="utf-8"), model
