"""The alert review application: FastAPI with server-rendered pages.

Runs on its own (``serve_review``, ``supervision serve``) or mounted into the Airflow 3 API server
as a plugin (``fastapi_app``, under ``/supervision``): every link is built with ``url_for`` so it
follows the mount's root path.

Security model, in short (docs in security.py):
* the app's database login (``supervision_app``) sees no alert rows by itself; every request runs
  in a transaction that starts with ``SET LOCAL ROLE`` to the user's city or district group role,
  and PostgreSQL's row-level security decides which rows exist;
* argon2id password hashes; login throttled per user name and address; a signed session cookie
  (itsdangerous) bound to the password's version; a CSRF token on every state-changing request;
  strict security headers; SQL only ever takes user input as bound parameters.
"""
from __future__ import annotations

import base64
import csv
import hmac
import io
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from supervision.config import DISTRICTS
from supervision.review import catalogue as cat
from supervision.review.db import Pool

log = logging.getLogger("supervision.review")
HERE = Path(__file__).parent
SESSION_COOKIE = "supervision_review"
SESSION_MAX_AGE = 8 * 3600
THROTTLE_FAILURES, THROTTLE_WINDOW = 5, timedelta(minutes=15)
THROTTLE_IP_FAILURES = 50
PAGE_SIZES = (25, 50, 100, 200)
EXACT_COUNT_CAP = 2_000   # exact counts up to here; beyond, the planner's estimate (shown as ≈)
BULK_MAX = 500

# --- sort whitelist: key -> (label, [(sql expression, python type)]); alert_id ends every sort ----
SEV_RANK = "(case a.severity when 'high' then 3 when 'medium' then 2 else 1 end)"
SORTS: dict[str, tuple[str, list[tuple[str, type]]]] = {
    "occurred": ("發生日期 Occurred", [("a.occurred_on", date)]),
    "first_detected": ("首次發現 First detected", [("a.first_detected_at", datetime)]),
    "last_detected": ("最近發現 Last detected", [("a.last_detected_at", datetime)]),
    "severity": ("嚴重程度 Severity", [(SEV_RANK, int), ("a.occurred_on", date)]),
    "rule": ("規則 Rule", [("a.rule_code", str), ("a.occurred_on", date)]),
    "district": ("區 District", [("a.district_code", str), ("a.occurred_on", date)]),
    "status": ("狀態 Status", [("a.status", str), ("a.occurred_on", date)]),
}


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
        return cat.district_label(self.district_code)


class LoginRequired(Exception):
    pass


# --- filters ---------------------------------------------------------------------------------------

def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass
class Filters:
    rule: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    district: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    active: str = "yes"
    date_from: date | None = None
    date_to: date | None = None
    org: str = ""
    entity: str = ""
    person: str = ""
    exam: str = ""
    assignee: str = ""
    sort: str = "occurred"
    dir: str = "desc"
    per_page: int = 50

    @classmethod
    def parse(cls, q) -> Filters:
        """Only known values survive: everything else is dropped, never passed on."""
        f = cls()
        f.rule = [r for r in q.getlist("rule") if r in cat.RULES]
        f.severity = [s for s in q.getlist("severity") if s in cat.SEVERITIES]
        f.district = [d for d in q.getlist("district") if d in cat.ALL_DISTRICTS]
        f.status = [s for s in q.getlist("status") if s in cat.STATUSES]
        f.active = q.get("active") if q.get("active") in ("yes", "no", "all") else "yes"
        f.date_from, f.date_to = _date(q.get("date_from")), _date(q.get("date_to"))
        f.org = (q.get("org") or "").strip()[:100]
        f.entity = (q.get("entity") or "").strip()[:200]
        f.person = (q.get("person") or "").strip()[:128]
        f.exam = (q.get("exam") or "").strip()[:100]
        f.assignee = (q.get("assignee") or "").strip()[:64]
        f.sort = q.get("sort") if q.get("sort") in SORTS else "occurred"
        f.dir = "asc" if q.get("dir") == "asc" else "desc"
        try:
            pp = int(q.get("per_page") or 50)
        except ValueError:
            pp = 50
        f.per_page = pp if pp in PAGE_SIZES else 50
        return f

    def query(self, **override) -> list[tuple[str, str]]:
        """As query-string pairs (defaults left out), with overrides."""
        d: dict[str, Any] = {
            "rule": self.rule, "severity": self.severity, "district": self.district, "status": self.status,
            "active": None if self.active == "yes" else self.active,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "org": self.org, "entity": self.entity, "person": self.person, "exam": self.exam,
            "assignee": self.assignee, "sort": None if self.sort == "occurred" else self.sort,
            "dir": None if self.dir == "desc" else self.dir,
            "per_page": None if self.per_page == 50 else str(self.per_page)}
        d.update(override)
        out = []
        for k, v in d.items():
            if isinstance(v, list):
                out += [(k, x) for x in v]
            elif v:
                out.append((k, str(v)))
        return out

    def where(self, user: User) -> tuple[list[str], list[Any]]:
        """SQL conditions (constant text) and their bound parameters."""
        c: list[str] = []
        p: list[Any] = []
        if self.rule:
            c.append("a.rule_code = any(%s)")
            p.append(self.rule)
        if self.severity:
            c.append("a.severity = any(%s)")
            p.append(self.severity)
        if self.district:
            c.append("a.district_code = any(%s)")
            p.append(self.district)
        if self.status:
            c.append("a.status = any(%s)")
            p.append(self.status)
        if self.active == "yes":
            c.append("a.is_active")
        elif self.active == "no":
            c.append("not a.is_active")
        if self.date_from:
            c.append("a.occurred_on >= %s")
            p.append(self.date_from)
        if self.date_to:
            c.append("a.occurred_on <= %s")
            p.append(self.date_to)
        if self.org:
            c.append("a.alert_id in (select l.alert_id from review.alert_links l "
                     "where l.institution_id = %s union select l.alert_id from review.alert_links l where l.org_id = %s)")
            p += [self.org, self.org]
        if self.person:
            c.append("a.alert_id in (select l.alert_id from review.alert_links l where l.person_key = %s)")
            p.append(self.person)
        if self.exam:
            c.append("a.alert_id in (select l.alert_id from review.alert_links l where l.exam_id = %s)")
            p.append(self.exam)
        if self.entity:
            if "|" in self.entity:
                c.append("a.entity_key = %s")
            else:
                c.append("string_to_array(a.entity_key, '|') @> array[%s]::text[]")
            p.append(self.entity)
        if self.assignee == "none":
            c.append("not exists (select 1 from review.assignments s where s.alert_id = a.alert_id "
                     "and s.assignee is not null)")
        elif self.assignee:
            c.append("exists (select 1 from review.assignments s where s.alert_id = a.alert_id and s.assignee = %s)")
            p.append(user.username if self.assignee == "me" else self.assignee)
        return c, p

    @property
    def is_default(self) -> bool:
        return not self.query(sort=None, dir=None, per_page=None)


def _encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, date | datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(text: str | None, sort: str) -> list[Any] | None:
    if not text:
        return None
    try:
        vals = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        types = [t for _, t in SORTS[sort][1]] + [str]
        if not isinstance(vals, list) or len(vals) != len(types):
            return None
        out = []
        for v, t in zip(vals, types, strict=True):
            if t is date:
                out.append(date.fromisoformat(v))
            elif t is datetime:
                out.append(datetime.fromisoformat(v))
            elif t is int:
                out.append(int(v))
            else:
                if not isinstance(v, str):
                    return None
                out.append(v)
        return out
    except (ValueError, TypeError):
        return None


def current_user(request: Request) -> User:
    """The logged-in user, re-checked against review.users on every request (disabled users and
    changed passwords end sessions at once)."""
    sess = request.session
    name = sess.get("u")
    if not name:
        raise LoginRequired()
    with request.app.state.review.pool.as_app() as conn:
        row = conn.execute("select * from review.login_user(%s)", (name,)).fetchone()
    if (row is None or not row["active"] or sess.get("pc") != row["password_changed_at"].timestamp()
            or sess.get("d") != row["district_code"]):
        sess.clear()
        raise LoginRequired()
    user = User(row["username"], row["district_code"])
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(current_user)]


# --- the application's state ------------------------------------------------------------------------

class Review:
    def __init__(self, warehouse_url: str | None, install: bool, links_refresh_seconds: float):
        self.warehouse_url = warehouse_url
        self.install = install
        self.links_refresh_seconds = links_refresh_seconds
        self._pool: Pool | None = None
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._last_refresh: float | None = None
        self._cache: dict[Any, tuple[float, Any]] = {}

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from supervision.config import settings
                    from supervision.review.security import app_url, install_security

                    url = self.warehouse_url or settings().warehouse_url()
                    if self.install:
                        install_security(url)
                    self._pool = Pool(app_url(url))
                    self._last_refresh = None
                    self.maybe_refresh_links()   # in the background: the first run links every alert
        return self._pool

    def refresh_links(self) -> int:
        """Resolve new alerts to their institution/org/person/exam (synchronously; the app does it in
        the background, at most every links_refresh_seconds; the detail page links its alert itself)."""
        with self._refreshing, self.pool.as_app() as conn:
            self._last_refresh = time.monotonic()
            return conn.execute("select review.refresh_alert_links(null) as n").fetchone()["n"]

    def maybe_refresh_links(self) -> None:
        """At most every links_refresh_seconds, in a background thread, never blocking a request."""
        if self._refreshing.locked() or (
                self._last_refresh is not None and time.monotonic() - self._last_refresh < self.links_refresh_seconds):
            return
        self._last_refresh = time.monotonic()

        def run():
            try:
                self.refresh_links()
            except Exception:   # noqa: BLE001 - a background nicety; the next request retries
                log.exception("refreshing alert links failed")
        threading.Thread(target=run, daemon=True, name="review-links").start()

    def cached(self, key, seconds: float, fn):
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit and now - hit[0] < seconds:
            return hit[1]
        val = fn()
        self._cache[key] = (now, val)
        if len(self._cache) > 256:
            self._cache.clear()
        return val


# --- helpers ------------------------------------------------------------------------------------------

def _path(request: Request, name: str, **params) -> str:
    # Resolve against this application's own routes, then prefix the mount point: mounted in the
    # Airflow API server, ``request.url_for`` would search Airflow's router (scope["router"] is the
    # outer one) and not find ours.
    app = request.scope.get("app") or request.app
    return request.scope.get("root_path", "").rstrip("/") + str(app.url_path_for(name, **params))


def _client_ip(request: Request) -> str:
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
            raise HTTPException(403, "cross-origin request refused")
    sent = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form()
        sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "CSRF token missing or wrong — reload the page and try again")


def flash(request: Request, kind: str, text: str) -> None:
    request.session.setdefault("flash", []).append([kind, text])


def _fmt_evidence(ev: Any, limit: int = 4) -> str:
    if not isinstance(ev, dict):
        return ""
    items = list(ev.items())[:limit]
    s = ", ".join(f"{k}: {v}" for k, v in items)
    return s + (" …" if len(ev) > limit else "")


def _csv_safe(v: Any) -> str:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    if v is None:
        return ""
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    s = str(v)
    return "'" + s if isinstance(v, str) and s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


# --- the app --------------------------------------------------------------------------------------------

def create_app(warehouse_url: str | None = None, *, install: bool = True, session_secret: str | None = None,
               links_refresh_seconds: float = 30.0, https_only: bool | None = None) -> FastAPI:
    """The review application. ``warehouse_url``: an owner URL of the warehouse (default: settings);
    the app applies the review schema and security (``install``) and then connects as
    ``supervision_app``. Nothing touches the database until the first request."""
    import os

    from supervision.config import settings

    if session_secret is None:
        session_secret = settings().secret("review_session_secret", "SUPERVISION_REVIEW_SESSION_SECRET")
    if https_only is None:
        https_only = os.environ.get("SUPERVISION_REVIEW_HTTPS_ONLY") == "1"
    app = FastAPI(title="Supervision review 培訓監管告警覆核", docs_url=None, redoc_url=None, openapi_url=None)
    state = Review(warehouse_url, install, links_refresh_seconds)
    app.state.review = state
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(cat=cat, DISTRICTS=DISTRICTS, SORTS=SORTS, PAGE_SIZES=PAGE_SIZES,
                                 district_label=cat.district_label, rule_label=cat.rule_label,
                                 fmt_evidence=_fmt_evidence)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
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

    # added after the headers middleware, so it runs first (outermost): the session is there for all
    app.add_middleware(SessionMiddleware, secret_key=session_secret, session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE, same_site="lax", https_only=https_only)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        nxt = request.url.path + (("?" + request.url.query) if request.url.query else "")
        return RedirectResponse(_path(request, "login_page") + "?" + urlencode({"next": nxt}), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if request.url.path.endswith((".csv", "/healthz")) or "text/html" not in request.headers.get("accept", "text/html"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        user = getattr(request.state, "user", None)
        return render(request, "error.html", user, status_code=exc.status_code, status=exc.status_code,
                      detail=exc.detail)


    def render(request: Request, name: str, user: User | None, status_code: int = 200, **ctx) -> HTMLResponse:
        messages = request.session.pop("flash", []) if "flash" in request.session else []
        return templates.TemplateResponse(
            request, name, {"user": user, "csrf": csrf_token(request), "messages": messages,
                            "u": lambda n, **p: _path(request, n, **p), **ctx}, status_code=status_code)

    # --- health, login, logout ------------------------------------------------------------------------
    @app.get("/healthz", name="healthz")
    def healthz():
        try:
            with state.pool.as_app() as conn:
                conn.execute("select 1")
            return {"status": "ok", "database": "ok"}
        except Exception as err:  # noqa: BLE001
            return JSONResponse({"status": "error", "database": type(err).__name__}, status_code=503)

    @app.get("/login", name="login_page")
    def login_page(request: Request, next: str = ""):  # noqa: A002
        return render(request, "login.html", None, next=_safe_next(request, next))

    @app.post("/login", name="login", dependencies=[Depends(csrf_protect)])
    def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("")):  # noqa: A002
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        username = username.strip()[:64]
        ip = _client_ip(request)
        with state.pool.as_app() as conn:
            fails = conn.execute(
                "select count(*) filter (where username = %s) as mine, count(*) as ip_total from review.login_attempts "
                "where client_ip = %s and not ok and at > now() - %s", (username, ip, THROTTLE_WINDOW)).fetchone()
            if fails["mine"] >= THROTTLE_FAILURES or fails["ip_total"] >= THROTTLE_IP_FAILURES:
                conn.execute("insert into review.login_attempts (username, client_ip, ok) values (%s, %s, false)",
                             (username, ip))
                return render(request, "login.html", None, status_code=429, next=_safe_next(request, next),
                              error="嘗試次數過多，請15分鐘後再試 Too many failed attempts: try again in 15 minutes.",
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
            if ok and ph.check_needs_rehash(row["password_hash"]):
                conn.execute("select review.rehash_password(%s, %s, %s)",
                             (username, row["password_hash"], ph.hash(password)))
        if not ok:
            return render(request, "login.html", None, status_code=401, next=_safe_next(request, next),
                          error="用戶名或密碼錯誤 Wrong user name or password.", username=username)
        request.session.clear()   # a new session (and CSRF token) at every login
        request.session.update({"u": row["username"], "d": row["district_code"],
                                "pc": row["password_changed_at"].timestamp(), "csrf": secrets.token_urlsafe(32)})
        return RedirectResponse(_safe_next(request, next) or _path(request, "alert_list"), status_code=303)

    @app.post("/logout", name="logout", dependencies=[Depends(csrf_protect)])
    def logout(request: Request):
        request.session.clear()
        return RedirectResponse(_path(request, "login_page"), status_code=303)

    @app.get("/", name="home")
    def home(request: Request):
        return RedirectResponse(_path(request, "alert_list"), status_code=303)

    # --- alert list ---------------------------------------------------------------------------------------
    def _list_query(f: Filters, user: User, cursor: list | None, backwards: bool, limit: int):
        conds, params = f.where(user)
        keys = [e for e, _ in SORTS[f.sort][1]] + ["a.alert_id"]
        desc = f.dir == "desc"
        forward_desc = desc != backwards
        if cursor is not None:
            op = "<" if forward_desc else ">"
            conds.append(f"({', '.join(keys)}) {op} ({', '.join(['%s'] * len(keys))})")
            params += cursor
        order = ", ".join(f"{k} {'desc' if forward_desc else 'asc'}" for k in keys)
        sel_keys = ", ".join(f"{k} as k{i}" for i, k in enumerate(keys[:-1]))
        q = ("select a.alert_id, a.rule_code, a.severity, a.entity_type, a.entity_key, a.district_code, a.occurred_on,"
             " a.first_detected_at, a.last_detected_at, a.is_active, a.status, a.evidence,"
             " (select s.assignee from review.assignments s where s.alert_id = a.alert_id) as assignee, "
             + sel_keys + " from marts.supervision_alerts a"
             + (" where " + " and ".join(conds) if conds else "") + f" order by {order} limit %s")
        return q, params + [limit]

    def _count(conn, f: Filters, user: User) -> tuple[int, bool]:
        conds, params = f.where(user)
        where = (" where " + " and ".join(conds)) if conds else ""
        n = conn.execute(f"select count(*) as n from (select 1 from marts.supervision_alerts a{where} limit %s) s",
                         params + [EXACT_COUNT_CAP + 1]).fetchone()["n"]
        if n <= EXACT_COUNT_CAP:
            return n, True
        plan = conn.execute(f"explain (format json) select 1 from marts.supervision_alerts a{where}", params).fetchone()
        est = int(list(plan.values())[0][0]["Plan"]["Plan Rows"])
        return max(est, n), False

    @app.get("/alerts", name="alert_list")
    def alert_list(request: Request, user: CurrentUser):
        state.maybe_refresh_links()
        q = request.query_params
        f = Filters.parse(q)
        after = _decode_cursor(q.get("after"), f.sort)
        before = _decode_cursor(q.get("before"), f.sort) if after is None else None
        try:
            page = max(int(q.get("p") or 1), 1)
        except ValueError:
            page = 1
        with state.pool.as_user(user.district_code) as conn:
            sql_text, params = _list_query(f, user, after or before, before is not None, f.per_page + 1)
            rows = conn.execute(sql_text, params).fetchall()
            has_more = len(rows) > f.per_page
            rows = rows[:f.per_page]
            if before is not None:
                rows.reverse()
            total, exact = _count(conn, f, user)
            assignees = [r["username"] for r in conn.execute(
                "select username from review.users where active order by username")]
        if before is not None:
            has_next, has_prev = True, has_more
        else:
            has_next, has_prev = has_more, after is not None
        if page == 1:
            has_prev = False
        nkeys = len(SORTS[f.sort][1])

        def cur(r):
            return _encode_cursor([r[f"k{i}"] for i in range(nkeys)] + [r["alert_id"]])
        base = _path(request, "alert_list")
        next_url = (base + "?" + urlencode(f.query(after=cur(rows[-1]), p=str(page + 1)))) if rows and has_next else None
        prev_url = (base + "?" + urlencode(f.query(before=cur(rows[0]), p=str(page - 1)))
                    if rows and has_prev and page > 2 else base + "?" + urlencode(f.query())) if has_prev else None
        first = (page - 1) * f.per_page + 1 if rows else 0
        return render(request, "alerts.html", user, rows=rows, f=f, total=total, exact=exact, page=page,
                      first=first, last=first + len(rows) - 1 if rows else 0, next_url=next_url, prev_url=prev_url,
                      qs=urlencode(f.query()), assignees=assignees,
                      detail_base=_path(request, "alert_detail", alert_id="_")[:-1],
                      sort_url=lambda key: base + "?" + urlencode(f.query(
                          sort=key, dir="asc" if f.sort == key and f.dir == "desc" else None)),
                      export_url=_path(request, "alert_export") + "?" + urlencode(f.query()))

    @app.get("/alerts.csv", name="alert_export")
    def alert_export(request: Request, user: CurrentUser):
        f = Filters.parse(request.query_params)
        conds, params = f.where(user)
        keys = [e for e, _ in SORTS[f.sort][1]] + ["a.alert_id"]
        order = ", ".join(f"{k} {f.dir}" for k in keys)
        q = ("select a.alert_id, a.rule_code, a.severity, a.entity_type, a.entity_key, a.district_code, a.occurred_on,"
             " a.first_detected_at, a.last_detected_at, a.is_active, a.status,"
             " (select s.assignee from review.assignments s where s.alert_id = a.alert_id) as assignee,"
             " l.institution_id, l.org_id, l.exam_id, a.evidence"
             " from marts.supervision_alerts a left join review.alert_links l on l.alert_id = a.alert_id"
             + (" where " + " and ".join(conds) if conds else "") + f" order by {order}")
        cols = ["alert_id", "rule_code", "severity", "entity_type", "entity_key", "district_code", "occurred_on",
                "first_detected_at", "last_detected_at", "is_active", "status", "assignee", "institution_id",
                "org_id", "exam_id", "evidence"]
        district = user.district_code

        def stream():
            buf = io.StringIO()
            w = csv.writer(buf)
            buf.write("\ufeff")   # Excel opens UTF-8 (Chinese) correctly with a BOM
            w.writerow(cols + ["district_name", "rule_name"])
            with state.pool.as_user(district) as conn:
                with conn.cursor(name="export") as c:
                    c.itersize = 2000
                    c.execute(q, params)
                    for r in c:
                        w.writerow([_csv_safe(r[k]) for k in cols]
                                   + [cat.ALL_DISTRICTS.get(r["district_code"], ""),
                                      cat.RULES.get(r["rule_code"], ("", "", "", ""))[3]])
                        if buf.tell() > 64_000:
                            yield buf.getvalue()
                            buf.seek(0)
                            buf.truncate()
            yield buf.getvalue()
        fname = f"supervision_alerts_{datetime.now():%Y%m%d_%H%M}.csv"
        return StreamingResponse(stream(), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{fname}"'})

    # --- triage -----------------------------------------------------------------------------------------
    def apply_action(conn, user: User, ids: list[str], action: str, comment: str, assignee: str | None) -> dict:
        comment = (comment or "").strip()[:4000]
        rows = conn.execute("select alert_id, status, district_code from marts.supervision_alerts "
                            "where alert_id = any(%s) order by alert_id for update", (ids,)).fetchall()
        done, skipped = [], []
        if action in cat.ACTIONS:
            allowed, to_status, needs_comment, _, label = cat.ACTIONS[action]
            if needs_comment and not comment:
                raise HTTPException(400, f"{label}: a reason is required 請填寫原因")
            for r in rows:
                (done if r["status"] in allowed else skipped).append(r)
            if done:
                conn.execute("update marts.supervision_alerts set status = %s where alert_id = any(%s)",
                             (to_status, [r["alert_id"] for r in done]))
                with conn.cursor() as c:
                    c.executemany(
                        "insert into review.alert_events (alert_id, district_code, username, action, from_status,"
                        " to_status, comment) values (%s, %s, %s, %s, %s, %s, %s)",
                        [(r["alert_id"], r["district_code"], user.username, action, r["status"], to_status,
                          comment or None) for r in done])
        elif action == "assign":
            target = (assignee or "").strip() or None
            if target is not None and conn.execute(
                    "select 1 from review.users where username = %s and active", (target,)).fetchone() is None:
                raise HTTPException(400, "unknown assignee 無此用戶")
            for r in rows:
                conn.execute(
                    "insert into review.assignments as s (alert_id, district_code, assignee, assigned_by) "
                    "values (%s, %s, %s, %s) on conflict (alert_id) do update set assignee = excluded.assignee,"
                    " assigned_by = excluded.assigned_by, assigned_at = now(), district_code = excluded.district_code",
                    (r["alert_id"], r["district_code"], target, user.username))
                conn.execute(
                    "insert into review.alert_events (alert_id, district_code, username, action, from_status,"
                    " to_status, assignee, comment) values (%s, %s, %s, 'assign', %s, %s, %s, %s)",
                    (r["alert_id"], r["district_code"], user.username, r["status"], r["status"], target,
                     comment or None))
                done.append(r)
        elif action == "comment":
            if not comment:
                raise HTTPException(400, "empty comment 請填寫備註")
            for r in rows:
                conn.execute(
                    "insert into review.alert_events (alert_id, district_code, username, action, from_status,"
                    " to_status, comment) values (%s, %s, %s, 'comment', %s, %s, %s)",
                    (r["alert_id"], r["district_code"], user.username, r["status"], r["status"], comment))
                done.append(r)
        else:
            raise HTTPException(400, "unknown action")
        found = {r["alert_id"] for r in rows}
        return {"done": len(done), "skipped": len(skipped), "missing": len([i for i in ids if i not in found])}

    @app.post("/alerts/bulk", name="alert_bulk", dependencies=[Depends(csrf_protect)])
    async def alert_bulk(request: Request, user: CurrentUser):
        form = await request.form()
        ids = list(dict.fromkeys(str(i)[:64] for i in form.getlist("ids")))[:BULK_MAX]
        action = str(form.get("action") or "")
        comment = str(form.get("comment") or "")
        assignee = str(form.get("assignee") or "")
        back = str(form.get("return_qs") or "")
        if not ids:
            raise HTTPException(400, "no alerts selected 未選擇告警")
        from starlette.concurrency import run_in_threadpool

        def work():
            with state.pool.as_user(user.district_code) as conn:
                return apply_action(conn, user, ids, action, comment, assignee)
        res = await run_in_threadpool(work)
        flash(request, "ok", f"{res['done']} 條已更新 updated; {res['skipped']} 條狀態不允許 not allowed from their status;"
                             f" {res['missing']} 條未找到 not found")
        back_qs = "&".join(p for p in back.split("&") if p and "\n" not in p and "\r" not in p)
        return RedirectResponse(_path(request, "alert_list") + ("?" + back_qs if back_qs else ""), status_code=303)

    # --- alert detail ------------------------------------------------------------------------------------
    @app.get("/alerts/{alert_id}", name="alert_detail")
    def alert_detail(request: Request, alert_id: str, user: CurrentUser):
        from supervision.review import evidence

        state.maybe_refresh_links()
        with state.pool.as_user(user.district_code) as conn:
            a = conn.execute("select * from marts.supervision_alerts where alert_id = %s", (alert_id[:64],)).fetchone()
            if a is None:
                raise HTTPException(404, "告警不存在或無權查看 No such alert (or not in your district)")
            events = conn.execute("select * from review.alert_events where alert_id = %s order by at desc, event_id desc",
                                  (alert_id,)).fetchall()
            asg = conn.execute("select * from review.assignments where alert_id = %s", (alert_id,)).fetchone()
            links = conn.execute("select * from review.alert_links where alert_id = %s", (alert_id,)).fetchone()
            if links is None:
                conn.execute("select review.refresh_alert_links(%s)", (alert_id,))
                links = conn.execute("select * from review.alert_links where alert_id = %s", (alert_id,)).fetchone()
            related = []
            if links:
                for key, label, col, param in (
                        ("institution", "同一培訓機構 Same institution", "institution_id", "org"),
                        ("org", "同一評價機構 Same evaluation org", "org_id", "org"),
                        ("person", "同一人 Same person", "person_key", "person"),
                        ("exam", "同一場考試 Same exam", "exam_id", "exam")):
                    if not links[col]:
                        continue
                    rs = conn.execute(
                        f"select a.alert_id, a.rule_code, a.severity, a.occurred_on, a.status, a.is_active, a.entity_key"
                        f" from review.alert_links l join marts.supervision_alerts a on a.alert_id = l.alert_id"
                        f" where l.{col} = %s and l.alert_id <> %s order by a.occurred_on desc, a.alert_id limit 11",
                        (links[col], alert_id)).fetchall()
                    related.append({"key": key, "label": label, "value": links[col], "rows": rs[:10],
                                    "more": len(rs) > 10,
                                    "url": _path(request, "alert_list") + "?" + urlencode(
                                        {param: links[col], "active": "all"})})
            assignees = [r["username"] for r in conn.execute(
                "select username from review.users where active order by username")]
            blocks = evidence.for_alert(conn, a)
        return render(request, "alert.html", user, a=a, events=events, asg=asg, links=links, related=related,
                      blocks=blocks, assignees=assignees)

    @app.post("/alerts/{alert_id}/triage", name="alert_triage", dependencies=[Depends(csrf_protect)])
    def alert_triage(request: Request, alert_id: str, user: CurrentUser, action: str = Form(""),
                     comment: str = Form(""), assignee: str = Form("")):
        with state.pool.as_user(user.district_code) as conn:
            res = apply_action(conn, user, [alert_id[:64]], action, comment, assignee)
        if res["missing"]:
            raise HTTPException(404, "告警不存在或無權查看 No such alert (or not in your district)")
        if res["skipped"]:
            raise HTTPException(409, "此狀態不允許該操作 That action is not allowed from the alert's current status")
        flash(request, "ok", "已記錄 Saved")
        return RedirectResponse(_path(request, "alert_detail", alert_id=alert_id), status_code=303)

    # --- overview --------------------------------------------------------------------------------------
    @app.get("/overview", name="overview")
    def overview(request: Request, user: CurrentUser):
        from supervision.review.overview import build_overview

        q = request.query_params
        district = q.get("district") if q.get("district") in DISTRICTS else None
        rule = q.get("rule") if q.get("rule") in cat.RULES else None
        data = state.cached(("overview", user.district_code, district, rule), 60,
                            lambda: build_overview(state.pool, user, district, rule))
        return render(request, "overview.html", user, d=data, sel_district=district, sel_rule=rule,
                      list_url=_path(request, "alert_list"))

    # --- GX Data Docs (static files written by the quality step), for logged-in users --------------
    @app.get("/data-docs/{path:path}", name="data_docs")
    def data_docs(request: Request, user: CurrentUser, path: str = ""):
        from supervision.config import settings

        root = (settings().gx_dir / "data_docs").resolve()
        if not root.is_dir():
            return render(request, "error.html", user, status_code=404, status=404,
                          detail="尚未生成數據文檔 No Great Expectations Data Docs yet (they appear after the first quality run).")
        target = (root / path).resolve()
        if root not in (target, *target.parents):
            raise HTTPException(404, "not found")
        if target.is_dir():
            for candidate in (target / "index.html", target / "local_site" / "index.html"):
                if candidate.is_file():
                    return RedirectResponse(_path(request, "data_docs", path=str(candidate.relative_to(root))),
                                            status_code=303)
            raise HTTPException(404, "not found")
        if not target.is_file():
            raise HTTPException(404, "not found")
        return FileResponse(target)

    return app


_dummy: list[str] = []


def _dummy_hash() -> str:
    """A real argon2 hash of a random password: unknown users cost as much to check as known ones."""
    if not _dummy:
        from argon2 import PasswordHasher

        _dummy.append(PasswordHasher().hash(secrets.token_urlsafe(16)))
    return _dummy[0]


def _safe_next(request: Request, nxt: str) -> str:
    """Only a path inside this app (no scheme, no host, no //) is a valid place to return to."""
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt or "\n" in nxt or "\r" in nxt:
        return ""
    root = request.scope.get("root_path", "")
    return nxt if nxt.startswith(root + "/") or nxt == root else ""


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

