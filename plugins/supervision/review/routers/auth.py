"""Health, login (argon2id, throttled per user name and address), logout, and the home redirect.

A session is the signed cookie of the user's name, district and session epoch (``review.users``):
every request checks the epoch (``web.current_user``), and logout raises it in the database, so a
copy of the cookie taken before logout is worth nothing after it, on any device. The client's
address is the connection's, or the one a trusted proxy forwarded (``transport``)."""
from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse

from supervision.review.i18n import gettext
from supervision.review.web import ReviewState, client_ip, csrf_protect, path, render, safe_next
from supervision.warehouse import one_row

THROTTLE_FAILURES, THROTTLE_WINDOW = 5, timedelta(minutes=15)
THROTTLE_IP_FAILURES = 50

router = APIRouter()

_dummy: list[str] = []


def _dummy_hash() -> str:
    """A real argon2 hash of a random password: unknown users cost as much to check as known ones."""
    if not _dummy:
        from argon2 import PasswordHasher

        _dummy.append(PasswordHasher().hash(secrets.token_urlsafe(16)))
    return _dummy[0]


@router.get("/healthz", name="healthz")
def healthz(state: ReviewState):
    try:
        with state.pool.as_app() as conn:
            conn.execute("select 1")
        return {"status": "ok", "database": "ok"}
    except Exception as err:  # noqa: BLE001
        return JSONResponse({"status": "error", "database": type(err).__name__}, status_code=503)


@router.get("/login", name="login_page")
def login_page(request: Request, next: str = ""):  # noqa: A002
    return render(request, "login.html", None, next=safe_next(request, next))


@router.post("/login", name="login", dependencies=[Depends(csrf_protect)])
def login(request: Request, state: ReviewState, username: str = Form(""), password: str = Form(""),
          next: str = Form("")):  # noqa: A002
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    username = username.strip()[:64]
    ip = client_ip(request)
    with state.pool.as_app() as conn:
        fails = one_row(conn.execute(
            "select count(*) filter (where username = %s) as mine, count(*) as ip_total from review.login_attempts "
            "where client_ip = %s and not ok and at > now() - %s", (username, ip, THROTTLE_WINDOW)))
        if fails["mine"] >= THROTTLE_FAILURES or fails["ip_total"] >= THROTTLE_IP_FAILURES:
            conn.execute("insert into review.login_attempts (username, client_ip, ok) values (%s, %s, false)",
                         (username, ip))
            return render(request, "login.html", None, status_code=429, next=safe_next(request, next),
                          error=gettext("Too many failed attempts: try again in 15 minutes."),
                          username=username)
        row = conn.execute("select * from review.login_user(%s)", (username,)).fetchone()
    ph = PasswordHasher()
    ok = False
    try:
        # unknown users cost a verification too (no timing difference to probe names with)
        ph.verify(row["password_hash"] if row else _dummy_hash(), password)
        ok = row is not None and row["active"]
    except (VerificationError, InvalidHashError):
        ok = False
    with state.pool.as_app() as conn:
        conn.execute("insert into review.login_attempts (username, client_ip, ok) values (%s, %s, %s)",
                     (username, ip, ok))
        conn.execute("delete from review.login_attempts where at < now() - interval '30 days'")
        if ok and row is not None and ph.check_needs_rehash(row["password_hash"]):
            conn.execute("select review.rehash_password(%s, %s, %s)",
                         (username, row["password_hash"], ph.hash(password)))
    if not ok:
        return render(request, "login.html", None, status_code=401, next=safe_next(request, next),
                      error=gettext("Wrong user name or password."), username=username)
    assert row is not None  # ok: the user exists
    request.session.clear()   # a new session (and CSRF token) at every login
    request.session.update({"u": row["username"], "d": row["district_code"], "se": row["session_epoch"],
                            "csrf": secrets.token_urlsafe(32)})
    return RedirectResponse(safe_next(request, next) or path(request, "alert_list"), status_code=303)


@router.post("/logout", name="logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request, state: ReviewState):
    name, epoch = request.session.get("u"), request.session.get("se")
    if isinstance(name, str) and isinstance(epoch, int):
        with state.pool.as_app() as conn:   # every session of the user ends, not only this cookie
            conn.execute("select review.end_sessions(%s, %s)", (name, epoch))
    request.session.clear()
    return RedirectResponse(path(request, "login_page"), status_code=303)


@router.get("/", name="home")
def home(request: Request):
    return RedirectResponse(path(request, "alert_list"), status_code=303)
