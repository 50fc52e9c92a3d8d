"""What every router shares: the logged-in user, links that follow the mount point, CSRF, flash
messages, page rendering, security headers and error pages."""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, cast
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from supervision.config import DISTRICTS
from supervision.review import catalogue as cat
from supervision.review import i18n
from supervision.review.listing import PAGE_SIZES, SORTS, fmt_evidence
from supervision.review.state import Review

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.globals.update(cat=cat, DISTRICTS=DISTRICTS, SORTS=SORTS, PAGE_SIZES=PAGE_SIZES,
                             fmt_evidence=fmt_evidence, switch_url=i18n.switch_url, LANGUAGES=i18n.LANGUAGES,
                             **i18n.jinja_globals())


@dataclass
class User:
    username: str
    district_code: str | None
    display_name: str | None = None

    @property
    def is_city(self) -> bool:
        return self.district_code is None

    @property
    def label(self) -> str:
        return i18n.district_label(self.district_code)


class LoginRequired(Exception):
    pass


def review_state(request: Request) -> Review:
    """This application's state (``request.app`` is the review app itself, also when mounted)."""
    return request.app.state.review


ReviewState = Annotated[Review, Depends(review_state)]


def current_user(request: Request) -> User:
    """The logged-in user, re-checked against review.users on every request: the cookie's session
    epoch must be the user's (logout, a new password, disabling raise it: every session ends)."""
    sess = request.session
    name = sess.get("u")
    if not name:
        raise LoginRequired()
    with review_state(request).pool.as_app() as conn:
        row = conn.execute("select * from review.login_user(%s)", (name,)).fetchone()
    if (row is None or not row["active"] or sess.get("se") != row["session_epoch"]
            or sess.get("d") != row["district_code"]):
        sess.clear()
        raise LoginRequired()
    user = User(row["username"], row["district_code"])
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def path(request: Request, name: str, **params) -> str:
    """The path of one of this application's routes, under its mount point."""
    # Resolve against this application's own routes, then prefix the mount point: mounted in the
    # Airflow API server, ``request.url_for`` would search Airflow's router (scope["router"] is the
    # outer one) and not find ours.
    app = request.scope.get("app") or request.app
    return request.scope.get("root_path", "").rstrip("/") + str(app.url_path_for(name, **params))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


def csrf_token(request: Request) -> str:
    tok = request.session.get("csrf")
    if not tok:
        tok = secrets.token_urlsafe(32)
        request.session["csrf"] = tok
    return tok


async def csrf_protect(request: Request) -> None:
    """Every state-changing request carries the session's CSRF token (form field or header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise HTTPException(403, i18n.gettext("Cross-origin request refused."))
    sent = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form()
        field = form.get("csrf_token")
        sent = field if isinstance(field, str) else None
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, i18n.gettext("The form has expired or was not sent by this site: reload the page and try again."))


def flash(request: Request, kind: str, text: str) -> None:
    request.session.setdefault("flash", []).append([kind, text])


def render(request: Request, name: str, user: User | None, status_code: int = 200, **ctx) -> HTMLResponse:
    """A page of ``templates/``, with the user, the CSRF token, pending flash messages and ``u()`` for links."""
    messages = request.session.pop("flash", []) if "flash" in request.session else []
    return TEMPLATES.TemplateResponse(
        request, name, {"user": user, "csrf": csrf_token(request), "messages": messages,
                        "u": lambda n, **p: path(request, n, **p), **ctx}, status_code=status_code)


def safe_next(request: Request, nxt: str) -> str:
    """Only a path inside this app (no scheme, no host, no //) is a valid place to return to."""
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt or "\n" in nxt or "\r" in nxt:
        return ""
    root = request.scope.get("root_path", "")
    return nxt if nxt.startswith(root + "/") or nxt == root else ""


# --- middleware and error pages, installed by the app factory -----------------------------------------

def security_headers(https_only: bool):
    """An HTTP middleware setting strict security headers (CSP, framing, caching, HSTS when HTTPS-only)."""
    async def middleware(request: Request, call_next):
        response = await call_next(request)
        h = response.headers
        if request.url.path.startswith(request.scope.get("root_path", "") + "/data-docs"):
            h["Content-Security-Policy"] = ("default-src 'self' 'unsafe-inline' data:; frame-ancestors 'self'; "
                                            "base-uri 'self'; form-action 'none'")
        else:
            h["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                            "script-src 'self'; form-action 'self'; frame-ancestors 'self'; "
                                            "base-uri 'none'; object-src 'none'")
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "SAMEORIGIN"
        h["Referrer-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        if "cache-control" not in h and not request.url.path.startswith(request.scope.get("root_path", "") + "/static"):
            h["Cache-Control"] = "no-store"
        if https_only:
            h["Strict-Transport-Security"] = "max-age=31536000"
        return response
    return middleware


async def login_required_handler(request: Request, exc: Exception) -> Response:
    nxt = request.url.path + (("?" + request.url.query) if request.url.query else "")
    return RedirectResponse(path(request, "login_page") + "?" + urlencode({"next": nxt}), status_code=303)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    exc = cast(StarletteHTTPException, exc)   # registered for StarletteHTTPException only
    if request.url.path.endswith((".csv", "/healthz")) or "text/html" not in request.headers.get("accept", "text/html"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    user = getattr(request.state, "user", None)
    # Starlette's own details ("Not Found", "Method Not Allowed") are message ids too
    detail = i18n.gettext(exc.detail) if isinstance(exc.detail, str) else exc.detail
    return render(request, "error.html", user, status_code=exc.status_code, status=exc.status_code,
                  detail=detail)
