"""Sessions that end (logout, a new password, disabling: every session of the user), ``Secure`` cookies
and HSTS over HTTPS, and client addresses believed only from trusted proxies."""
from __future__ import annotations

import psycopg
import pytest

from .conftest import CITY, HP_USER, PASSWORD, PD_USER, csrf_of, login


def _copy(make_client, cookie: str):
    c = make_client()
    c.cookies.set("supervision_review", cookie)
    return c


def _events(url: str, alert_id: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("select count(*) from review.alert_events where alert_id = %s", (alert_id,)).fetchone()[0]


def test_logout_ends_every_session_of_the_user_even_a_copied_cookie(make_client, seeded):
    url, a = seeded["url"], seeded["headcount"]
    c = make_client(PD_USER)
    other_device = make_client(PD_USER)
    colleague = make_client("pd_colleague")
    token = csrf_of(c.get(f"/alerts/{a}").text)
    copied = c.cookies.get("supervision_review")
    r = c.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    # the cookie copied before logout lists nothing and records nothing
    thief = _copy(make_client, copied)
    assert thief.get("/alerts", follow_redirects=False).status_code == 303
    thief = _copy(make_client, copied)
    r = thief.post(f"/alerts/{a}/triage", data={"action": "confirm", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert _events(url, a) == 0
    with psycopg.connect(url) as conn:
        assert conn.execute("select status from marts.supervision_alerts where alert_id = %s", (a,)).fetchone()[0] == "open"
    # every session of that user ended; a colleague's did not
    assert other_device.get("/alerts", follow_redirects=False).status_code == 303
    assert colleague.get("/alerts").status_code == 200
    # logging in again works, and the old copy stays dead
    login(c, PD_USER)
    assert c.get("/alerts").status_code == 200
    assert _copy(make_client, copied).get("/alerts", follow_redirects=False).status_code == 303


def test_sessions_end_when_the_user_changes_in_the_database(make_client, seeded):
    """Whatever changes review.users (the CLI, an administrator's SQL): a new password, disabling or
    another district ends the sessions; a password rehash on login does not."""
    url = seeded["url"]
    c = make_client(PD_USER)
    with psycopg.connect(url) as conn:
        conn.execute("update review.users set password_hash = password_hash where username = %s", (PD_USER,))
        conn.commit()
    assert c.get("/alerts").status_code == 200
    for change in ("active = false", "password_changed_at = now()", "district_code = '310104'"):
        c = make_client(HP_USER)
        assert c.get("/alerts").status_code == 200
        with psycopg.connect(url) as conn:
            conn.execute(f"update review.users set {change} where username = %s", (HP_USER,))
            conn.execute("update review.users set active = true, district_code = '310101' where username = %s",
                         (HP_USER,))
            conn.commit()
        assert c.get("/alerts", follow_redirects=False).status_code == 303, change


def test_secure_cookie_and_hsts_over_https_not_over_plain_http(app, make_client, seeded):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://review.example") as tls:
        page = tls.get("/login")
        assert page.headers["strict-transport-security"].startswith("max-age=")
        r = tls.post("/login", data={"username": CITY, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
                     follow_redirects=False)
        assert r.status_code == 303
        assert "secure" in [a.strip().lower() for a in r.headers["set-cookie"].split(";")]
        assert tls.get("/alerts").status_code == 200          # the Secure cookie comes back over HTTPS
    plain = make_client()
    page = plain.get("/login")
    assert "strict-transport-security" not in page.headers      # the demo over http://127.0.0.1
    r = login(plain, CITY)
    assert "secure" not in [a.strip().lower() for a in r.headers["set-cookie"].split(";")]


@pytest.fixture
def proxied_app(seeded):
    from supervision.review.app import create_app

    a = create_app(seeded["url"], links_refresh_seconds=3600, trusted_proxies=["10.0.0.0/8"])
    yield a
    if a.state.review._pool:
        a.state.review._pool.close()


def _client(app, peer: str):
    from fastapi.testclient import TestClient

    return TestClient(app, base_url="http://review.internal", client=(peer, 40000))


def _attempt(c, username: str, password: str, forwarded_for: str | None = None, proto: str | None = None):
    headers = {k: v for k, v in (("x-forwarded-for", forwarded_for), ("x-forwarded-proto", proto)) if v}
    page = c.get("/login", headers=headers)
    return c.post("/login", data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
                  headers=headers, follow_redirects=False)


def test_the_throttle_sees_the_client_behind_a_trusted_proxy_only(proxied_app, seeded):
    url = seeded["url"]
    with _client(proxied_app, "10.1.2.3") as proxy:
        for _ in range(5):
            assert _attempt(proxy, PD_USER, "not the password", "203.0.113.5").status_code == 401
        assert _attempt(proxy, PD_USER, PASSWORD, "203.0.113.5").status_code == 429
        # the same user from another client behind the same proxy is not locked out
        r = _attempt(proxy, PD_USER, PASSWORD, "198.51.100.7, 10.9.9.9", proto="https")
        assert r.status_code == 303
        assert "secure" in [a.strip().lower() for a in r.headers["set-cookie"].split(";")]
        assert r.headers["strict-transport-security"].startswith("max-age=")
    with _client(proxied_app, "192.0.2.9") as direct:     # not a trusted proxy: its headers are not believed
        r = _attempt(direct, HP_USER, "not the password", "203.0.113.99", proto="https")
        assert r.status_code == 401 and "strict-transport-security" not in r.headers
    with psycopg.connect(url) as conn:
        seen = dict(conn.execute("select client_ip, count(*) from review.login_attempts group by 1").fetchall())
    assert seen == {"203.0.113.5": 6, "198.51.100.7": 1, "192.0.2.9": 1}


def test_trusted_proxies_setting_is_checked(monkeypatch):
    from supervision.config import ConfigError, Settings

    monkeypatch.setenv("SUPERVISION_REVIEW_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.10")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "192.168.1.10"]
    monkeypatch.setenv("SUPERVISION_REVIEW_TRUSTED_PROXIES", "proxy.example")
    with pytest.raises(ConfigError, match="SUPERVISION_REVIEW_TRUSTED_PROXIES"):
        Settings()
