"""Fixtures of the review application's tests: a warehouse with the review schema and security, three
users (city, Pudong, Huangpu), the seed data, and logged-in TestClients."""
from __future__ import annotations

import contextlib
import os
import re

import psycopg
import pytest

# Secrets from the environment, so tests never touch var/secrets.json.
os.environ.setdefault("SUPERVISION_APP_PASSWORD", "test-app-password-1")
os.environ.setdefault("SUPERVISION_REVIEW_SESSION_SECRET", "test-session-secret-" + "x" * 24)

PASSWORD = "correct horse 1"
CITY, PD_USER, HP_USER = "city_chief", "pd_reviewer", "hp_reviewer"


@pytest.fixture
def review_db(warehouse_db) -> str:
    from supervision.access import install_security

    install_security(warehouse_db)
    return warehouse_db


_hash: list[str] = []


def add_test_users(url: str) -> None:
    """The test users, with one argon2 hash computed once (hashing costs ~0.4 s on 2 cores)."""
    import psycopg

    from supervision.review.users import hash_password

    from .seed import HUANGPU, PUDONG

    if not _hash:
        _hash.append(hash_password(PASSWORD))
    with psycopg.connect(url) as conn:
        for name, district in ((CITY, None), (PD_USER, PUDONG), (HP_USER, HUANGPU), ("pd_colleague", PUDONG)):
            conn.execute("insert into review.users (username, password_hash, district_code) values (%s, %s, %s)",
                         (name, _hash[0], district))


@pytest.fixture
def seeded(review_db) -> dict:
    from .seed import seed

    ids = seed(review_db)
    add_test_users(review_db)
    return {"url": review_db, **ids}


@pytest.fixture
def app(seeded):
    from supervision.review.app import create_app

    a = create_app(seeded["url"], links_refresh_seconds=3600)
    a.state.review.refresh_links()
    yield a
    if a.state.review._pool:
        a.state.review._pool.close()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def login(client, username: str, password: str = PASSWORD, expect: int = 303):
    page = client.get("/login")
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == expect, r.text[:500]
    return r


@pytest.fixture
def make_client(app):
    from fastapi.testclient import TestClient

    clients = []

    def make(username: str | None = None):
        c = TestClient(app, base_url="http://127.0.0.1")
        clients.append(c)
        if username:
            login(c, username)
        return c
    yield make
    for c in clients:
        c.close()


@contextlib.contextmanager
def as_app(url: str, role: str, actor: str | None):
    """A transaction of the application's login, in a review group role, naming ``actor`` (or nobody)."""
    from supervision.access import app_url

    with psycopg.connect(app_url(url)) as conn, conn.transaction():
        conn.execute(f"set local role {role}")
        if actor is not None:
            conn.execute("select set_config('review.actor', %s, true)", (actor,))
        yield conn
