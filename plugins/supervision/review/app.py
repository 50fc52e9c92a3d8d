"""The alert review application's factory: FastAPI with server-rendered pages.

``create_app`` only assembles: the state (``state.Review``: pool, link refreshes, cache), the
middleware and error pages (``web``), and one router per area (``routers``: auth, alerts, triage,
overview, precision, risk, report, data docs), whose services are ``listing`` and ``triage``.

Runs on its own (``serve_review``, ``supervision serve``) or mounted into the Airflow 3 API server
as a plugin (``fastapi_app``, under ``/supervision``): every link is built with ``web.path`` so it
follows the mount's root path.

Security model, in short (roles and policies: ``supervision.access``):
* the app's database login (``supervision_app``) sees no alert rows by itself; every request runs
  in a transaction that starts with ``SET LOCAL ROLE`` to the user's city or district group role,
  and PostgreSQL's row-level security decides which rows exist;
* argon2id password hashes; login throttled per user name and client address (forwarded only by a
  trusted proxy); a signed session cookie (itsdangerous) bound to the user's session epoch, which
  logout, a new password and disabling raise (every session ends); ``Secure`` cookies and HSTS over
  HTTPS; a CSRF token on every state-changing request; strict security headers; SQL only ever takes
  user input as bound parameters;
* the audit trail's user and time come from the database, and an alert's status changes only with
  its event (``review/schema.sql``).
"""
from __future__ import annotations

import threading

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from supervision.review.i18n import language_middleware
from supervision.review.routers import alerts, auth, data_docs, overview, precision, report, risk, triage
from supervision.review.state import Review
from supervision.review.transport import TransportSecurity
from supervision.review.web import (
    HERE,
    LoginRequired,
    http_error_handler,
    login_required_handler,
    security_headers,
)

SESSION_COOKIE = "supervision_review"
SESSION_MAX_AGE = 8 * 3600


def create_app(warehouse_url: str | None = None, *, install: bool = True, session_secret: str | None = None,
               links_refresh_seconds: float = 30.0, https_only: bool | None = None,
               trusted_proxies: list[str] | None = None) -> FastAPI:
    """The review application. ``warehouse_url``: an owner URL of the warehouse (default: settings);
    the app applies the review schema and security (``install``) and then connects as
    ``supervision_app``. Nothing touches the database until the first request."""
    from supervision.config import settings

    if session_secret is None:
        session_secret = settings().secret("review_session_secret", "SUPERVISION_REVIEW_SESSION_SECRET")
    if https_only is None:
        https_only = settings().review_https_only
    if trusted_proxies is None:
        trusted_proxies = settings().trusted_proxies
    app = FastAPI(title="Supervision review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.review = Review(warehouse_url, install, links_refresh_seconds)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.middleware("http")(security_headers(https_only))
    app.middleware("http")(language_middleware)   # the request's language (review.i18n)
    # added after the headers middleware, so it runs first (outermost): the session is there for all
    app.add_middleware(SessionMiddleware, secret_key=session_secret, session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE, same_site="lax", https_only=https_only)
    # outermost: the client's address and scheme (trusted proxies) before anything reads them
    app.add_middleware(TransportSecurity, trusted_proxies=trusted_proxies, https_only=https_only)
    app.add_exception_handler(LoginRequired, login_required_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    for module in (auth, alerts, triage, overview, precision, risk, report, data_docs):
        app.include_router(module.router)
    return app


class _LazyApp:
    """An ASGI app that builds the real one on its first request (Airflow imports plugins early)."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._app: FastAPI | None = None
        self._lock = threading.Lock()

    def _get(self) -> FastAPI:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = create_app(**self._kwargs)
        return self._app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":   # nothing to start: the app connects on first use
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await self._get()(scope, receive, send)

    def __repr__(self) -> str:
        return "<supervision review app (lazy)>"


def create_app_lazy(**kwargs) -> _LazyApp:
    return _LazyApp(**kwargs)


# What an AirflowPlugin lists in ``fastapi_apps`` (Airflow 3.1+ mounts it under url_prefix).
fastapi_app = {"app": create_app_lazy(), "url_prefix": "/supervision", "name": "Supervision review"}


def serve_review(host: str = "127.0.0.1", port: int = 8000, warehouse_url: str | None = None,
                 root_path: str = "") -> None:
    """Serve the review application with uvicorn (blocking)."""
    import uvicorn

    uvicorn.run(create_app(warehouse_url), host=host, port=port, root_path=root_path, log_level="info",
                proxy_headers=False, server_header=False)

