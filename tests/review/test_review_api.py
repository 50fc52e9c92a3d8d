"""API tests of the review application (FastAPI TestClient against a real PostgreSQL)."""
from __future__ import annotations

import csv
import io
import re

import psycopg
import pytest

from .conftest import CITY, HP_USER, PASSWORD, PD_USER, csrf_of, login
from .seed import EXAM, HUANGPU, PLAIN_ID, PUDONG, SESSION


def ids_on(html: str) -> list[str]:
    return re.findall(r'data-alert-id="([0-9a-f]{20})"', html)


def status_of(url: str, alert_id: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("select status from marts.supervision_alerts where alert_id = %s", (alert_id,)).fetchone()[0]


def districts_of(url: str, ids: list[str]) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("select district_code from marts.supervision_alerts where alert_id = any(%s)",
                                           (ids,))}


# --- login ------------------------------------------------------------------------------------------

def test_login_ok_refused_and_required(make_client, seeded):
    c = make_client()
    r = c.get("/alerts", follow_redirects=False)
    assert r.status_code == 303 and "/login?next=%2Falerts" in r.headers["location"]
    assert login(c, CITY, "wrong password", expect=401).text.count("用户名或密码错误") == 1
    login(c, "nobody_here", "whatever123", expect=401)
    r = login(c, CITY)
    assert r.headers["location"].endswith("/alerts")
    assert c.get("/alerts").status_code == 200
    # the session cookie is signed: tampering with it logs out
    cookie = c.cookies.get("supervision_review")
    c.cookies.clear()
    c.cookies.set("supervision_review", cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB"))
    assert c.get("/alerts", follow_redirects=False).status_code == 303


def test_login_next_only_inside_the_app(make_client, seeded):
    c = make_client()
    page = c.get("/login?next=/alerts/" + seeded["claim"])
    r = c.post("/login", data={"username": CITY, "password": PASSWORD, "csrf_token": csrf_of(page.text),
                               "next": "/alerts/" + seeded["claim"]}, follow_redirects=False)
    assert r.headers["location"] == "/alerts/" + seeded["claim"]
    c2 = make_client()
    page = c2.get("/login")
    r = c2.post("/login", data={"username": CITY, "password": PASSWORD, "csrf_token": csrf_of(page.text),
                                "next": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/alerts"


def test_login_throttled_after_five_failures(make_client, seeded):
    c = make_client()
    for _ in range(5):
        login(c, PD_USER, "not the password", expect=401)
    r = login(c, PD_USER, PASSWORD, expect=429)   # even the right password, for 15 minutes
    assert "尝试次数过多" in r.text
    # another user from the same address is not locked out by those failures
    login(make_client(), HP_USER, PASSWORD, expect=303)
    with psycopg.connect(seeded["url"]) as conn:
        assert conn.execute("select count(*) from review.login_attempts where username = %s and not ok",
                            (PD_USER,)).fetchone()[0] == 6


def test_disabled_user_and_password_change_end_sessions(make_client, seeded):
    from supervision.review.users import disable_user, set_password

    c = make_client(PD_USER)
    assert c.get("/alerts").status_code == 200
    set_password(seeded["url"], PD_USER, "a new password 2")
    assert c.get("/alerts", follow_redirects=False).status_code == 303
    login(c, PD_USER, "a new password 2")
    disable_user(seeded["url"], PD_USER)
    assert c.get("/alerts", follow_redirects=False).status_code == 303
    login(make_client(), PD_USER, "a new password 2", expect=401)


# --- CSRF -------------------------------------------------------------------------------------------

def test_csrf_token_required_on_every_state_changing_route(app, make_client, seeded):
    c = make_client(CITY)
    target = seeded["headcount"]
    posts = [r for r in app.routes if "POST" in getattr(r, "methods", set())]
    assert {r.name for r in posts} >= {"login", "logout", "alert_bulk", "alert_triage"}
    assert not [r for r in app.routes if getattr(r, "methods", set()) & {"PUT", "PATCH", "DELETE"}]
    form = {"action": "confirm", "ids": target, "comment": "x", "username": CITY, "password": PASSWORD}
    for route in posts:
        path = route.path.replace("{alert_id}", target)
        for token in (None, "forged-token"):
            data = dict(form) | ({"csrf_token": token} if token else {})
            r = c.post(path, data=data, follow_redirects=False)
            assert r.status_code == 403, (path, token, r.status_code)
    # a cross-origin request is refused even with the token
    page = c.get(f"/alerts/{target}")
    r = c.post(f"/alerts/{target}/triage", data={"action": "confirm", "csrf_token": csrf_of(page.text)},
               headers={"origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403
    assert status_of(seeded["url"], target) == "open"
    # and with the token it works (so the 403s above were about the token)
    r = c.post(f"/alerts/{target}/triage", data={"action": "confirm", "csrf_token": csrf_of(page.text)},
               follow_redirects=False)
    assert r.status_code == 303 and status_of(seeded["url"], target) == "confirmed"


# --- list: filters, sorting, paging, counts, export ---------------------------------------------------

def test_filters_sorting_and_paging(make_client, seeded):
    c = make_client(CITY)
    url = seeded["url"]
    everything = ids_on(c.get("/alerts?active=all&per_page=200").text)
    assert len(everything) == 66
    active = ids_on(c.get("/alerts?per_page=200").text)
    assert len(active) == 66 - 6    # every 11th extra alert is no longer active
    high = ids_on(c.get("/alerts?severity=high&per_page=200").text)
    with psycopg.connect(url) as conn:
        expect_high = conn.execute("select count(*) from marts.supervision_alerts where severity = 'high' and is_active"
                                   ).fetchone()[0]
    assert len(high) == expect_high
    assert districts_of(url, ids_on(c.get(f"/alerts?district={HUANGPU}&per_page=200").text)) == {HUANGPU}
    r = c.get("/alerts?rule=HEADCOUNT_SHORTFALL&rule=CAMERA_DOWN")
    assert sorted(ids_on(r.text)) == sorted([seeded["headcount"], seeded["camera"]])
    assert "<strong>2</strong>" in r.text
    assert set(ids_on(c.get("/alerts?status=confirmed&active=all&per_page=200").text)) and all(
        status_of(url, i) == "confirmed" for i in ids_on(c.get("/alerts?status=confirmed&active=all").text))
    dated = ids_on(c.get("/alerts?date_from=2024-04-01&date_to=2024-04-01").text)
    assert sorted(dated) == sorted([seeded["exam"], seeded["identical"]])
    # institution / evaluation org (resolved through the raw layer), entity key parts, exam
    by_ins = ids_on(c.get("/alerts?org=INS-PD-01").text)
    assert sorted(by_ins) == sorted([seeded["headcount"], seeded["camera"], seeded["claim"], seeded["face"]])
    assert sorted(ids_on(c.get("/alerts?org=ORG-HP-01").text)) == sorted([seeded["exam"], seeded["identical"]])
    assert ids_on(c.get("/alerts?entity=T-001").text) == [seeded["face"]]
    assert ids_on(c.get(f"/alerts?entity={SESSION}|T-001").text) == [seeded["face"]]
    assert sorted(ids_on(c.get(f"/alerts?exam={EXAM}").text)) == sorted([seeded["exam"], seeded["identical"]])
    # unknown filter values are dropped, not passed to SQL
    assert len(ids_on(c.get("/alerts?severity=high' or 1=1--&sort=alert_id;drop&per_page=200").text)) == 60
    # sorting by severity: high first, then medium, then low
    sev = [s for s in re.findall(r'class="sev sev-(\w+)"', c.get("/alerts?sort=severity&per_page=200").text)]
    assert sev == sorted(sev, key=["high", "medium", "low"].index)
    asc = ids_on(c.get("/alerts?sort=occurred&dir=asc&per_page=200").text)
    assert asc == list(reversed(ids_on(c.get("/alerts?sort=occurred&dir=desc&per_page=200").text)))
    # keyset paging: 25 per page through all active alerts, no overlap, no gap; previous goes back
    seen, page, pages = [], c.get("/alerts?per_page=25&sort=rule"), 0
    first_page = ids_on(page.text)
    while True:
        pages += 1
        seen += ids_on(page.text)
        m = re.search(r'href="([^"]+)" rel="next"', page.text)
        if not m:
            break
        page = c.get(m.group(1).replace("&amp;", "&"))
        if pages == 1:
            prev = re.search(r'href="([^"]+)" rel="prev"', page.text).group(1).replace("&amp;", "&")
            assert ids_on(c.get(prev).text) == first_page
    assert pages == 3 and len(seen) == 60 and len(set(seen)) == 60
    assert seen == ids_on(c.get("/alerts?per_page=200&sort=rule").text)


def test_csv_export_of_the_filtered_list(make_client, seeded):
    c = make_client(CITY)
    r = c.get(f"/alerts.csv?district={PUDONG}&active=all")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    listed = ids_on(c.get(f"/alerts?district={PUDONG}&active=all&per_page=200").text)
    assert sorted(x["alert_id"] for x in rows) == sorted(listed)
    assert {x["district_code"] for x in rows} == {PUDONG}
    claim = next(x for x in rows if x["alert_id"] == seeded["claim"])
    assert claim["rule_code"] == "INSUFFICIENT_HOURS" and claim["institution_id"] == "INS-PD-01"
    assert '"planned_hours": 12' in claim["evidence"] and claim["district_name"] == "浦东新区"


# --- detail, evidence, triage, audit trail ------------------------------------------------------------

def test_detail_shows_drawn_evidence_and_masked_ids_only(make_client, seeded):
    c = make_client(CITY)
    html = c.get(f"/alerts/{seeded['headcount']}").text
    assert '<svg id="session-chart-S-PD-0001"' in html
    assert html.count('class="minute uncovered"') == 90 and html.count('class="minute covered"') == 90
    assert 'class="headcount-line"' in html and 'class="threshold-line"' in html
    assert "310115********1231" in html and PLAIN_ID not in html and "学员1" not in html
    html = c.get(f"/alerts/{seeded['claim']}").text
    assert '<svg id="hours-chart-CL-PD-0001"' in html
    assert html.count('class="bar session-hours"') == 3 and html.count('class="bar attended-hours zero"') == 2
    assert "已开课的 3 节课共出勤 1.47 小时" in html   # 09:02:03 to 10:30, in the default language
    c.cookies.set("supervision_lang", "en")
    assert "1.47 h in 3 held sessions" in c.get(f"/alerts/{seeded['claim']}").text
    html = c.get(f"/alerts/{seeded['exam']}").text
    assert 'id="score-chart-theory-EX-HP-0100"' in html and 'class="baseline-line"' in html
    assert "100.0% of 20" in html and "baseline" in html
    c.cookies.delete("supervision_lang")
    assert "20 人中 100.0%" in c.get(f"/alerts/{seeded['exam']}").text
    # related alerts: the same session's other alerts, the same exam
    assert f'/alerts/{seeded["identical"]}' in html
    assert f'/alerts/{seeded["camera"]}' in c.get(f"/alerts/{seeded['headcount']}").text
    assert c.get("/alerts/ffffffffffffffffffff").status_code == 404


def test_triage_with_audit_trail(make_client, seeded):
    url, a = seeded["url"], seeded["claim"]
    c = make_client(PD_USER)
    token = csrf_of(c.get(f"/alerts/{a}").text)

    def act(action, comment="", assignee="", expect=303):
        r = c.post(f"/alerts/{a}/triage", data={"action": action, "comment": comment, "assignee": assignee,
                                                "csrf_token": token}, follow_redirects=False)
        assert r.status_code == expect, (action, r.status_code, r.text[:300])

    act("assign", assignee="pd_colleague")
    act("assign", assignee=HP_USER, expect=400)          # another district's user is not visible
    act("confirm")
    act("dismiss", expect=400)                           # a reason is required
    act("dismiss", comment="   ", expect=400)
    act("dismiss", comment="考勤机故障，已补录 device fault, attendance re-entered")
    act("resolve", expect=409)                           # not from dismissed
    act("reopen", expect=400)
    act("reopen", comment="复查发现补录不实 re-entry was false")
    act("resolve", comment="已追回补贴 subsidy recovered")
    act("comment", comment="通报机构 institution notified")
    assert status_of(url, a) == "resolved"
    with psycopg.connect(url) as conn:
        trail = conn.execute("select username, action, from_status, to_status, assignee, comment "
                             "from review.alert_events where alert_id = %s order by event_id", (a,)).fetchall()
    assert [(t[1], t[2], t[3]) for t in trail] == [
        ("assign", "open", "open"), ("confirm", "open", "confirmed"), ("dismiss", "confirmed", "dismissed"),
        ("reopen", "dismissed", "open"), ("resolve", "open", "resolved"), ("comment", "resolved", "resolved")]
    assert trail[0][4] == "pd_colleague" and all(t[0] == PD_USER for t in trail)
    html = c.get(f"/alerts/{a}").text
    assert html.count('class="audit-event') == 6 and "device fault, attendance re-entered" in html
    assert 'data-from="confirmed" data-to="dismissed">已确认 → 误报' in html
    assert 'id="alert-assignee">pd_colleague' in html
    # bulk change from the list, with the audit trail per alert
    ids = ids_on(c.get("/alerts?rule=CHECKIN_BURST&rule=WEAK_IDENTITY&status=open").text)[:3]
    assert len(ids) == 3
    r = c.post("/alerts/bulk", data={"ids": ids, "action": "dismiss", "comment": "duplicate device id test",
                                     "csrf_token": token, "return_qs": "rule=CHECKIN_BURST"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/alerts?rule=CHECKIN_BURST"
    assert "3 条已更新" in c.get(r.headers["location"]).text
    assert all(status_of(url, i) == "dismissed" for i in ids)


def test_audit_trail_can_not_be_changed(seeded):
    from supervision.access import app_url

    url = seeded["url"]
    with psycopg.connect(url) as conn:
        conn.execute("insert into review.alert_events (alert_id, district_code, username, action, from_status, to_status)"
                     " values (%s, %s, 'x', 'confirm', 'open', 'confirmed')", (seeded["claim"], PUDONG))
        conn.commit()
    with psycopg.connect(app_url(url)) as conn:     # the app's role: no UPDATE/DELETE grant
        for stmt in ("update review.alert_events set comment = 'rewritten'", "delete from review.alert_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute("set local role supervision_city")
                conn.execute(stmt)
    with psycopg.connect(url) as conn:              # even the owner: refused by trigger
        for stmt in ("update review.alert_events set comment = 'rewritten'", "delete from review.alert_events",
                     "truncate review.alert_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"), conn.transaction():
                conn.execute(stmt)
        assert conn.execute("select count(*) from review.alert_events").fetchone()[0] == 1


# --- district isolation --------------------------------------------------------------------------------

def test_district_user_can_not_reach_another_districts_alert_by_any_route(make_client, seeded):
    url = seeded["url"]
    other = seeded["exam"]                     # Huangpu's alert
    c = make_client(PD_USER)
    # list: only Pudong, whatever the query says
    listed = ids_on(c.get("/alerts?active=all&per_page=200").text)
    assert listed and districts_of(url, listed) == {PUDONG}
    for q in (f"district={HUANGPU}", "district=310000", f"exam={EXAM}", "org=ORG-HP-01", f"entity={EXAM}",
              "rule=ABNORMAL_PASS_RATE", f"district={HUANGPU}&district={PUDONG}&active=all"):
        got = ids_on(c.get(f"/alerts?{q}&per_page=200").text)
        assert other not in got and districts_of(url, got) <= {PUDONG}, q
    # detail by direct URL: the same 404 as a non-existent alert
    r = c.get(f"/alerts/{other}")
    assert r.status_code == 404 and EXAM not in r.text
    # export
    text = c.get(f"/alerts.csv?district={HUANGPU}&active=all").text
    assert len(text.strip().splitlines()) == 1 and other not in text
    text = c.get("/alerts.csv?active=all").text
    assert other not in text and HUANGPU not in {row.split(",")[5] for row in text.splitlines()[1:]}
    # triage and bulk change of someone else's alert
    token = csrf_of(c.get("/alerts").text)
    r = c.post(f"/alerts/{other}/triage", data={"action": "confirm", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 404
    r = c.post("/alerts/bulk", data={"ids": [other, seeded["camera"]], "action": "confirm", "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303
    assert status_of(url, other) == "open" and status_of(url, seeded["camera"]) == "confirmed"
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from review.alert_events where alert_id = %s", (other,)).fetchone()[0] == 0
    # overview: only its own district
    html = c.get("/overview").text
    assert "黄浦" not in html.split('id="heat-table"')[1].split("</table>")[0]
    # the same alert is visible to Huangpu and the city
    assert make_client(HP_USER).get(f"/alerts/{other}").status_code == 200
    assert make_client(CITY).get(f"/alerts/{other}").status_code == 200


def test_row_level_security_in_the_database(seeded):
    from supervision.access import app_url

    url = seeded["url"]
    with psycopg.connect(url) as conn:
        total = conn.execute("select count(*) from marts.supervision_alerts").fetchone()[0]
        pd_total = conn.execute("select count(*) from marts.supervision_alerts where district_code = %s",
                                (PUDONG,)).fetchone()[0]
        conn.execute("insert into review.alert_events (alert_id, district_code, username, action) "
                     "values ('a', %s, 'u', 'comment'), ('b', %s, 'u', 'comment')", (PUDONG, HUANGPU))
        conn.commit()
    assert 0 < pd_total < total
    with psycopg.connect(app_url(url)) as conn:
        # no SET ROLE: the login role has no policy, so no rows at all
        for table in ("marts.supervision_alerts", "review.users", "review.alert_events", "review.alert_links"):
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] == 0, table
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("select count(*) from raw_training.sessions")      # not inherited either
        with conn.transaction():
            conn.execute(f"set local role supervision_district_{PUDONG}")
            rows = conn.execute("select distinct district_code from marts.supervision_alerts").fetchall()
            assert rows == [(PUDONG,)]
            assert conn.execute("select count(*) from marts.supervision_alerts").fetchone()[0] == pd_total
            assert conn.execute("select count(*) from review.alert_events").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(f"set local role supervision_district_{PUDONG}")   # statuses change through events only
            conn.execute("update marts.supervision_alerts set status = 'confirmed' where district_code = %s",
                         (HUANGPU,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(f"set local role supervision_district_{PUDONG}")
            conn.execute("update marts.supervision_alerts set evidence = '{}'")   # only status is writable
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(f"set local role supervision_district_{PUDONG}")
            conn.execute("select id_number from pii.trainees")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"), conn.transaction():
            conn.execute(f"set local role supervision_district_{PUDONG}")   # can't write another district's trail
            conn.execute("select set_config('review.actor', %s, true)", (PD_USER,))
            conn.execute("insert into review.alert_events (alert_id, district_code, username, action) "
                         "values ('c', %s, 'u', 'comment')", (HUANGPU,))
        with conn.transaction():
            conn.execute("set local role supervision_city")
            assert conn.execute("select count(*) from marts.supervision_alerts").fetchone()[0] == total
        # the city sees all by policy, not by owning the table
        owner = conn.execute("select tableowner from pg_tables where schemaname = 'marts' "
                             "and tablename = 'supervision_alerts'").fetchone()[0]
        assert owner != "supervision_city"
        forced = conn.execute("select relrowsecurity and relforcerowsecurity from pg_class "
                              "where oid = 'marts.supervision_alerts'::regclass").fetchone()[0]
        assert forced


def test_install_security_is_idempotent_and_read_roles_work(seeded):
    from supervision.access import install_security, read_role

    install_security(seeded["url"])
    install_security(seeded["url"])
    with psycopg.connect(seeded["url"]) as conn:
        conn.execute("drop role if exists t_reader")
        conn.execute("create role t_reader login password 'reader-pass-1'")
        conn.execute(f"grant {read_role(HUANGPU)} to t_reader")
        conn.commit()
    base = seeded["url"].split("@", 1)[1]
    try:
        with psycopg.connect(f"postgresql://t_reader:reader-pass-1@{base}") as conn:
            assert conn.execute("select distinct district_code from marts.supervision_alerts").fetchall() == [(HUANGPU,)]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("update marts.supervision_alerts set status = 'open'")
    finally:
        with psycopg.connect(seeded["url"], autocommit=True) as conn:
            conn.execute(f"revoke {read_role(HUANGPU)} from t_reader")
            conn.execute("drop role t_reader")


# --- overview, health, headers, mounting -----------------------------------------------------------------

def test_overview_with_and_without_targets(make_client, seeded):
    c = make_client(CITY)
    html = c.get("/overview").text
    assert 'id="weekly-chart"' in html and 'id="heat-table"' in html
    assert 'id="targets-notice"' in html            # the mart does not exist yet
    with psycopg.connect(seeded["url"]) as conn:
        conn.execute("create table marts.district_target_progress (district_code text, month date, metric_code text,"
                     " month_value numeric, ytd_value numeric, annual_target numeric, ytd_pct_of_target numeric, has_data boolean not null default true)")
        for m in range(1, 4):
            for d, v in (("310000", 30000 * m), (PUDONG, 5000 * m), (HUANGPU, 2000 * m)):
                target = 800000 if d == "310000" else None
                conn.execute("insert into marts.district_target_progress values (%s, %s, 'subsidised_training', %s, %s,"
                             " %s, %s)", (d, f"2024-{m:02d}-01", 30000, v, target, v / target * 100 if target else None))
        conn.commit()
    from supervision.access import install_security

    install_security(seeded["url"])
    c2 = make_client(PD_USER)      # a new user/role key: the overview cache does not hide the new mart
    html = c2.get("/overview").text
    assert 'id="card-subsidised_training"' in html and 'id="progress-subsidised_training"' in html
    assert "90,000 / 800,000" in html and 'id="district-targets"' in html


def test_health_and_security_headers(make_client, seeded):
    c = make_client()
    r = c.get("/healthz")
    assert r.status_code == 200 and r.json()["database"] == "ok"
    r = c.get("/login")
    h = r.headers
    assert "default-src 'self'" in h["content-security-policy"] and "frame-ancestors 'self'" in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "SAMEORIGIN"
    assert h["cache-control"] == "no-store" and h["referrer-policy"] == "same-origin"
    login(c, CITY)
    cookie = next(x for x in c.cookies.jar if x.name == "supervision_review")
    assert cookie.has_nonstandard_attr("HttpOnly") or "httponly" in str(cookie._rest).lower()


def test_works_mounted_under_a_prefix_like_the_airflow_plugin(seeded):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from supervision.review.app import create_app, fastapi_app

    assert fastapi_app["url_prefix"] == "/supervision" and fastapi_app["name"] and callable(fastapi_app["app"])
    parent = FastAPI()
    parent.mount("/supervision", create_app(seeded["url"]))
    with TestClient(parent, base_url="http://127.0.0.1") as c:
        r = c.get("/supervision/alerts", follow_redirects=False)
        assert r.headers["location"].startswith("/supervision/login?next=%2Fsupervision%2Falerts")
        page = c.get("/supervision/login")
        assert 'href="/supervision/static/app.css"' in page.text and 'action="/supervision/login"' in page.text
        r = c.post("/supervision/login", data={"username": CITY, "password": PASSWORD, "csrf_token": csrf_of(page.text),
                                               "next": "/supervision/alerts"}, follow_redirects=False)
        assert r.headers["location"] == "/supervision/alerts"
        html = c.get("/supervision/alerts").text
        assert f'href="/supervision/alerts/{seeded["claim"]}"' in html
        assert c.get("/supervision/static/app.css").status_code == 200
        assert c.get(f"/supervision/alerts/{seeded['claim']}").status_code == 200


def test_lazy_app_builds_on_first_request(seeded, monkeypatch):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from supervision.review.app import create_app_lazy

    monkeypatch.setenv("SUPERVISION_WAREHOUSE_URL", seeded["url"])
    lazy = create_app_lazy()
    assert lazy._app is None
    parent = FastAPI()
    parent.mount("/supervision", lazy)
    with TestClient(parent) as c:
        assert c.get("/supervision/healthz").json()["status"] == "ok"
    assert lazy._app is not None


def test_data_docs_served_to_logged_in_users_only(make_client, seeded, tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERVISION_VAR_DIR", str(tmp_path))
    c = make_client()
    assert c.get("/data-docs/", follow_redirects=False).status_code == 303
    login(c, CITY)
    assert "尚未生成数据质量文档" in c.get("/data-docs/").text
    c.cookies.set("supervision_lang", "en")
    assert "No Great Expectations Data Docs yet" in c.get("/data-docs/").text
    site = tmp_path / "gx" / "data_docs" / "local_site"
    site.mkdir(parents=True)
    (site / "index.html").write_text("<h1>GX data docs</h1>")
    (tmp_path / "secret.txt").write_text("no")
    assert "GX data docs" in c.get("/data-docs/").text
    assert c.get("/data-docs/../../secret.txt").status_code == 404
    assert c.get("/data-docs/%2e%2e/%2e%2e/secret.txt").status_code == 404


def test_lazy_app_mounted_like_airflow_renders_its_links(seeded):
    """Airflow mounts the plugin's lazy app (``app.mount(url_prefix, subapp)``); the outer router can
    not see the lazy app's routes, so links must be resolved against the review app itself."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from supervision.review.app import create_app_lazy

    parent = FastAPI()
    parent.mount("/supervision", create_app_lazy(warehouse_url=seeded["url"]))
    with TestClient(parent, base_url="http://127.0.0.1") as c:
        page = c.get("/supervision/login")
        assert page.status_code == 200, page.text[-500:]
        assert 'href="/supervision/static/app.css"' in page.text and 'action="/supervision/login"' in page.text
        assert c.get("/supervision/static/app.css").status_code == 200
