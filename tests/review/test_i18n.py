"""The review application's languages: the catalogue is complete and Simplified, the districts have
both names, dates and numbers follow the language, and the switch is remembered."""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from supervision.review import i18n

from .chinese_script import traditional_in
from .conftest import CITY, login

REPO = Path(__file__).resolve().parents[2]
REVIEW = REPO / "plugins" / "supervision" / "review"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _catalogue():
    with i18n.po_path("zh_Hans").open("rb") as f:
        return read_po(f, locale="zh_Hans")


def _used_messages() -> dict[str | tuple[str, ...], str]:
    """Every message id of the templates and the review modules -> where it is used."""
    out: dict = {}
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    for fn, line, msg, _comments, _ctx in extract_from_dir(REVIEW, method_map, keywords=KEYWORDS):
        out.setdefault(msg, f"{fn}:{line}")
    return out


def test_every_message_has_a_simplified_translation():
    cat = _catalogue()
    missing, untranslated = [], []
    for msg, where in _used_messages().items():
        key = msg[0] if isinstance(msg, tuple) else msg
        entry = cat.get(key)
        if entry is None:
            missing.append(f"{where}: {msg!r}")
        elif not (entry.string if isinstance(entry.string, str) else all(entry.string)):
            untranslated.append(f"{where}: {msg!r}")
    assert not missing, "add these to locale/zh_Hans/LC_MESSAGES/messages.po:\n" + "\n".join(missing)
    assert not untranslated, "\n".join(untranslated)


def test_the_rules_have_names_in_both_languages():
    from supervision.catalogue import RULES

    cat = _catalogue()
    for code, r in RULES.items():
        assert cat.get(r.label_en) is not None and cat.get(r.label_en).string, code
    token = i18n.activate("en")
    try:
        assert i18n.rule_name("CAMERA_DOWN") == "Cameras down during session"
    finally:
        i18n.deactivate(token)
    assert i18n.rule_name("CAMERA_DOWN") == "摄像头未覆盖"


def test_the_catalogue_is_simplified_and_well_formed():
    cat = _catalogue()
    errors = [(m.id, e) for m, errs in cat.check() for e in errs]
    assert not errors, errors          # placeholders (%(name)s) match their message id
    assert not any(m.fuzzy for m in cat if m.id), "fuzzy entries are not used by gettext"
    for m in cat:
        if m.id:
            strings = [m.string] if isinstance(m.string, str) else list(m.string)
            assert all(not traditional_in(s) for s in strings), (m.id, strings)


def test_templates_hold_no_chinese_text():
    """Templates hold message ids; the only Chinese in them is the language switch's own name."""
    for t in (REVIEW / "templates").glob("*.html"):
        text = t.read_text(encoding="utf-8").replace(">中文</a>", "")
        assert not re.search(r"[\u4e00-\u9fff]", text), t.name


def test_district_names_in_both_languages():
    from supervision.config import DISTRICTS
    from supervision.districts import districts

    packaged = REPO / "plugins" / "supervision" / "data" / "districts.csv"
    seed = REPO / "dbt_project" / "seeds" / "districts.csv"
    assert seed.read_bytes() == packaged.read_bytes(), "the dbt seed is a copy of the package's file"
    assert list(districts()) == list(DISTRICTS)
    assert districts()["310115"].name_zh == "浦东新区" and districts()["310115"].name_en == "Pudong New Area"
    assert all(d.name_zh.endswith("区") and not traditional_in(d.name_zh) and d.name_en.isascii()
               for d in districts().values())
    assert i18n.district_label("310101") == "黄浦区 310101" and i18n.district_name(None) == "全市"
    token = i18n.activate("en")
    try:
        assert i18n.district_label("310101") == "Huangpu 310101" and i18n.district_name("310000") == "City"
    finally:
        i18n.deactivate(token)


@pytest.mark.parametrize("language, expected", [
    ("zh-Hans", ("2024年3月5日", "2024年3月5日 09:03", "2024年9月", "1,234,567", "12.3%")),
    ("en", ("5 Mar 2024", "5 Mar 2024 09:03", "Sept 2024", "1,234,567", "12.3%")),
])
def test_dates_and_numbers_follow_the_language(language, expected):
    token = i18n.activate(language)
    try:
        got = (i18n.fmt_date(date(2024, 3, 5)), i18n.fmt_datetime(datetime(2024, 3, 5, 9, 3)),
               i18n.fmt_month(date(2024, 9, 1)), i18n.fmt_number(1234567), i18n.fmt_percent(0.1234))
    finally:
        i18n.deactivate(token)
    assert got[:2] + got[3:] == expected[:2] + expected[3:]
    assert got[2].replace("Sep ", "Sept ") == expected[2]     # CLDR versions abbreviate September either way


def test_simplified_by_default_english_by_the_switch(make_client, seeded):
    c = make_client()
    page = c.get("/login")
    assert '<html lang="zh-Hans">' in page.text and "登录" in page.text and "Sign in" not in page.text
    assert 'id="lang-en"' in page.text and not traditional_in(page.text)
    # the switch: this page in English, remembered in a cookie that outlives the sign-in
    page = c.get("/login?lang=en")
    assert '<html lang="en">' in page.text and "Sign in" in page.text and not re.search(r"[\u4e00-\u9fff]",
                                                                                         page.text.replace("中文", ""))
    assert c.cookies.get(i18n.COOKIE) == "en"
    login(c, CITY)
    alerts = c.get("/alerts").text
    assert '<html lang="en">' in alerts and "Export CSV" in alerts and "导出" not in alerts
    assert "Huangpu" in alerts or "Pudong New Area" in alerts
    # back to Chinese; the filters of the page are kept in the switch's link
    listing = c.get("/alerts?severity=high").text
    assert re.search(r'href="/alerts\?severity=high&amp;lang=zh-Hans"', listing)
    zh = c.get("/alerts?severity=high&lang=zh-Hans").text
    assert '<html lang="zh-Hans">' in zh and "导出 CSV" in zh and "Export CSV" not in zh
    assert not traditional_in(zh), traditional_in(zh)
    assert c.cookies.get(i18n.COOKIE) == "zh-Hans"
    # errors, Starlette's own included, in the page's language
    missing = c.get("/no-such-page", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "页面不存在" in missing.text and not traditional_in(missing.text)
    assert "告警不存在或无权查看" in c.get("/alerts/ffffffffffffffffffff", headers={"accept": "text/html"}).text
    # an unknown language changes nothing
    assert '<html lang="zh-Hans">' in c.get("/alerts?lang=xx").text and c.cookies.get(i18n.COOKIE) == "zh-Hans"


def test_overview_cache_keeps_the_languages_apart(make_client, seeded):
    c = make_client(CITY)
    assert "活跃告警趋势" in c.get("/overview").text
    english = c.get("/overview?lang=en").text
    assert "Active alerts over time" in english and "活跃告警趋势" not in english


def test_the_switch_follows_the_mount_point(seeded):
    """Mounted like the Airflow plugin: the switch links and the cookie stay under /supervision."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from supervision.review.app import create_app

    parent = FastAPI()
    parent.mount("/supervision", create_app(seeded["url"]))
    with TestClient(parent, base_url="http://127.0.0.1") as c:
        page = c.get("/supervision/login?next=%2Fsupervision%2Falerts")
        assert 'href="/supervision/login?next=%2Fsupervision%2Falerts&amp;lang=en"' in page.text
        r = c.get("/supervision/login?lang=en")
        assert '<html lang="en">' in r.text
        assert "Path=/supervision" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
        assert '<html lang="en">' in c.get("/supervision/login").text
