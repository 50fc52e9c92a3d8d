r"""The review application's languages: Simplified Chinese (``zh-Hans``, the default) and English.

Messages are gettext message ids in English (templates: ``_("Alerts")``; Python: ``gettext`` or,
for text defined before any request, ``N_`` and a ``gettext`` where it is shown). Their Simplified
Chinese translations live in ``locale/zh_Hans/LC_MESSAGES/messages.po``; English needs no catalogue
(the ids are the English text). The ``.po`` file is read and compiled in memory at the first use,
so a fresh clone needs no build step (``tests/review/test_i18n.py`` checks that every message of the
templates and of the review modules has a translation). After changing messages, from the repository
root::

    .venv/bin/pybabel extract -F babel.cfg -k N_ -o var/messages.pot .
    .venv/bin/pybabel update -i var/messages.pot -D messages -l zh_Hans --no-fuzzy-matching \
        -d plugins/supervision/review/locale

then translate the new entries. The rule names are data (the English labels of the rule catalogue),
not in the code: ``update`` marks them obsolete (``#~``); keep them (uncomment them).

The language of a request: the ``lang`` query parameter (the switch in the page header; it also
sets the cookie), else the ``supervision_lang`` cookie, else ``zh-Hans``. A cookie rather than a
column of ``review.users``: the sign-in page has a language before anyone is signed in, and the
choice outlives the session, which is cleared at every sign-in and sign-out.

Dates, numbers and district names follow the language (Babel's CLDR data; the district names of
``supervision.districts``).
"""
from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from datetime import date, datetime
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from urllib.parse import urlencode

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from starlette.requests import Request
from starlette.responses import Response

from supervision.config import CITY_CODE
from supervision.districts import districts

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT = "zh-Hans"
# language tag (html lang, cookie value) -> (gettext catalogue folder or None, CLDR locale)
LANGUAGES: dict[str, tuple[str | None, str]] = {"zh-Hans": ("zh_Hans", "zh_Hans_CN"), "en": (None, "en_GB")}
COOKIE = "supervision_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

_current: ContextVar[str] = ContextVar("supervision_review_language", default=DEFAULT)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translated where shown"
    """Marks a message for the catalogue without translating it (it is translated where shown)."""
    return message


def po_path(folder: str) -> Path:
    return LOCALE_DIR / folder / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of a language (its .po file compiled in memory); English: none needed."""
    folder = LANGUAGES[language][0]
    if folder is None:
        return NullTranslations()
    with po_path(folder).open("rb") as f:
        catalog = read_po(f, locale=folder)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def current() -> str:
    """The language of the request being handled (``zh-Hans`` outside a request)."""
    return _current.get()


def activate(language: str) -> Token[str]:
    """Make ``language`` the current one (returns the token ``deactivate`` takes)."""
    return _current.set(language if language in LANGUAGES else DEFAULT)


def deactivate(token: Token[str]) -> None:
    _current.reset(token)


def gettext(message: str) -> str:
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


_ = gettext


def cldr() -> Locale:
    return Locale.parse(LANGUAGES[current()][1])


# --- dates and numbers --------------------------------------------------------------------------

def fmt_date(d: date | datetime | None) -> str:
    """A date as people of the language write it: 2024年3月5日 / 5 Mar 2024."""
    if d is None:
        return "—"
    return _babel_date(d.date() if isinstance(d, datetime) else d, "medium", locale=cldr())


def fmt_datetime(dt: datetime | None, seconds: bool = False) -> str:
    """Local date and 24-hour time, as stored (no zone conversion)."""
    if dt is None:
        return "—"
    return f"{fmt_date(dt)} {dt:%H:%M:%S}" if seconds else f"{fmt_date(dt)} {dt:%H:%M}"


def fmt_month(d: date) -> str:
    """A month: 2024年9月 / Sept 2024."""
    return format_skeleton("yMMM", d, locale=cldr())


def fmt_number(n: float | int | None, digits: int = 0) -> str:
    if n is None:
        return "—"
    return format_decimal(n, format="#,##0" + ("." + "0" * digits if digits else ""), locale=cldr())


def fmt_percent(x: float | None, digits: int = 1) -> str:
    """``x`` a fraction (0.123 -> 12.3%)."""
    if x is None:
        return "—"
    return format_percent(x, format="#,##0" + ("." + "0" * digits if digits else "") + "%", locale=cldr())


# --- names of districts, rules and states -----------------------------------------------------

def district_name(code: str | None) -> str:
    """A district's name in the current language; the city (None or 310000) is 全市 / City."""
    if code is None or code == CITY_CODE:
        return gettext("City")
    d = districts().get(code)
    if d is None:
        return code
    return d.name_zh if current() == "zh-Hans" else d.name_en


def district_label(code: str | None) -> str:
    """Name and code: 浦东新区 310115 / Pudong New Area 310115; the city: 全市 / City."""
    if code is None:
        return gettext("City")
    return f"{district_name(code)} {code}"


def rule_name(code: str) -> str:
    """A rule's name (the catalogue's English label is the message id)."""
    from supervision.catalogue import RULES

    r = RULES.get(code)
    return gettext(r.label_en) if r else code


# Starlette's error details, shown on the error page through gettext
STARLETTE_DETAILS = (N_("Not Found"), N_("Method Not Allowed"))

# The review's states and severities as message ids, for the catalogue and for labels.
SEVERITY_LABELS = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
STATUS_LABELS = {"open": N_("Open"), "confirmed": N_("Confirmed"), "dismissed": N_("Dismissed"),
                 "resolved": N_("Resolved")}
ACTION_LABELS = {"confirm": N_("Confirm"), "dismiss": N_("Dismiss as false positive"), "resolve": N_("Resolve"),
                 "reopen": N_("Reopen"), "assign": N_("Assign"), "comment": N_("Comment")}


# The source systems' enumeration values that the evidence shows (SOURCES.md, training platform).
VALUE_LABELS = {
    "scheduled": N_("scheduled"), "held": N_("held"), "cancelled": N_("cancelled"), "onsite": N_("on site"),
    "online": N_("online"), "submitted": N_("submitted"), "approved": N_("approved"), "paid": N_("paid"),
    "rejected": N_("rejected"), "active": N_("active"), "completed": N_("completed"), "dropped": N_("dropped"),
    "enrolled": N_("enrolled"), "planned": N_("planned"), "running": N_("running"), "finished": N_("finished"),
    "check_in": N_("check-in"), "check_out": N_("check-out"), "face": N_("face"), "card": N_("card"),
    "manual": N_("manual"), "standard": N_("standard"), "new_skill": N_("new skill"),
    "apprenticeship": N_("apprenticeship"),
}


def value_label(v: str | None) -> str:
    """A source system's enumeration value in the current language (unknown values as they are)."""
    if v is None:
        return "—"
    return gettext(VALUE_LABELS[v]) if v in VALUE_LABELS else str(v)


def severity_label(s: str) -> str:
    return gettext(SEVERITY_LABELS[s]) if s in SEVERITY_LABELS else s


def status_label(s: str) -> str:
    return gettext(STATUS_LABELS[s]) if s in STATUS_LABELS else s


def action_label(a: str) -> str:
    return gettext(ACTION_LABELS[a]) if a in ACTION_LABELS else a


# --- the request's language ---------------------------------------------------------------------

def requested_language(request: Request) -> tuple[str, bool]:
    """The request's language, and whether the request asked to switch to it (``?lang=``)."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked, True
    cookie = request.cookies.get(COOKIE)
    return (cookie if cookie in LANGUAGES else DEFAULT), False


async def language_middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """An HTTP middleware: the request's language is the current one while it is handled; a switch
    (``?lang=en``) is remembered in a cookie."""
    language, switched = requested_language(request)
    token = activate(language)
    try:
        response = await call_next(request)
    finally:
        deactivate(token)
    if switched:
        response.set_cookie(COOKIE, language, max_age=COOKIE_MAX_AGE, path=request.scope.get("root_path") or "/",
                            samesite="lax", httponly=True)
    return response


def switch_url(request: Request, language: str) -> str:
    """This page in another language (its query string kept, paging cursors included)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", language)]
    return request.url.path + "?" + urlencode(params)   # the path includes the mount point


def jinja_globals() -> dict[str, Callable[..., str]]:
    """What the templates call: ``_``, ``ngettext``, the formatters and the label functions."""
    return {"_": gettext, "gettext": gettext, "ngettext": ngettext, "current_language": current,
            "fmt_date": fmt_date, "fmt_datetime": fmt_datetime, "fmt_month": fmt_month, "fmt_number": fmt_number,
            "fmt_percent": fmt_percent, "district_name": district_name, "district_label": district_label,
            "rule_name": rule_name, "severity_label": severity_label, "status_label": status_label,
            "action_label": action_label, "value_label": value_label}
