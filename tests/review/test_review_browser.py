"""Real-browser tests: Debian's chromium (headless) driven by Playwright against uvicorn on 127.0.0.1.

Setup: the tests use /usr/bin/chromium and install it with ``apt-get install -y chromium`` when it is
missing (as root); if it can not be installed they are skipped. Run only these: ``pytest -m browser``.
The application is tried in Simplified Chinese (its default) and in English (the header's switch);
with SUPERVISION_SCREENSHOTS=1 the tests refresh the screenshots in docs/screenshots/ (``*.png`` in
Chinese, ``*_en.png`` in English).
"""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from .chinese_script import traditional_in
from .conftest import CITY, HP_USER, PASSWORD, PD_USER, add_test_users
from .seed import EXAM, HUANGPU, PUDONG, seed

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The committed screenshots are refreshed only on request (SUPERVISION_SCREENSHOTS=1), so that a test
# run leaves the checkout clean; otherwise the same pages are still rendered, into a temp folder.
SHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots"
         if os.environ.get("SUPERVISION_SCREENSHOTS") == "1"
         else Path(tempfile.gettempdir()) / "supervision-screenshots")


def ensure_chromium() -> str | None:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, timeout=600)
        if not Path(CHROMIUM).exists():
            subprocess.run(["apt-get", "update"], capture_output=True, timeout=600)
            subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, timeout=600)
    return CHROMIUM if Path(CHROMIUM).exists() else None


def ensure_cjk_font() -> None:
    """A font with Chinese glyphs for the committed screenshots (Debian's fonts-noto-cjk): the tests
    read the page's text and pass without it, a screenshot would show empty boxes."""
    if subprocess.run(["fc-list", ":lang=zh-cn"], capture_output=True, text=True).stdout.strip():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "fonts-noto-cjk"], capture_output=True, timeout=900)


def add_targets(url: str) -> None:
    import psycopg

    metrics = {"subsidised_training": 800000, "new_skill_training": 120000, "life_service_training": 30000,
               "apprenticeship_training": 10000, "high_skill_certificates": 45000,
               "new_employer_evaluation_orgs": 30, "new_college_evaluation_orgs": 30}
    with psycopg.connect(url) as conn:
        conn.execute("create table if not exists marts.district_target_progress (district_code text, month date,"
                     " metric_code text, month_value numeric, ytd_value numeric, annual_target numeric,"
                     " ytd_pct_of_target numeric, has_data boolean not null default true)")
        for mi, (metric, target) in enumerate(metrics.items()):
            for m in range(1, 10):
                city_month = 0
                for di, d in enumerate(["310101", "310104", "310115", "310112"]):
                    mv = round(target / 12 * (0.15 + 0.05 * di) * (0.8 + 0.03 * mi))
                    city_month += mv
                    conn.execute("insert into marts.district_target_progress values (%s, %s, %s, %s, %s, null, null)",
                                 (d, f"2024-{m:02d}-01", metric, mv, mv * m))
                conn.execute("insert into marts.district_target_progress values ('310000', %s, %s, %s, %s, %s, %s)",
                             (f"2024-{m:02d}-01", metric, city_month, city_month * m, target,
                              city_month * m / target * 100))


@pytest.fixture(scope="module")
def site(pg_admin_url):
    """A seeded warehouse and the app served by uvicorn in a background thread."""
    import psycopg
    import uvicorn

    from supervision.access import install_security
    from supervision.review.app import create_app
    from supervision.warehouse import bootstrap

    if ensure_chromium() is None:
        pytest.skip("chromium is not installed and could not be installed (apt-get install -y chromium)")
    if os.environ.get("SUPERVISION_SCREENSHOTS") == "1" and shutil.which("fc-list"):
        ensure_cjk_font()
    name = "t_browser_" + uuid.uuid4().hex[:8]
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = pg_admin_url.rsplit("/", 1)[0] + "/" + name
    bootstrap(url)
    add_targets(url)
    install_security(url)
    ids = seed(url)
    add_test_users(url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(url)
    app.state.review.refresh_links()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "url": url, **ids}
    finally:
        server.should_exit = True
        t.join(10)
        app.state.review._pool.close()
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    yield pg
    ctx.close()


def sign_in(page, site, user: str, password: str = PASSWORD):
    page.goto(site["base"] + "/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_login_and_filtering(page, site):
    page.goto(site["base"] + "/alerts")
    assert "/login" in page.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "login.png"))
    assert page.get_attribute("html", "lang") == "zh-Hans" and not traditional_in(page.inner_text("body"))
    sign_in(page, site, CITY, "wrong password!")
    assert page.inner_text("#login-error") == "用户名或密码错误。"
    sign_in(page, site, CITY)
    page.wait_for_url("**/alerts")
    rows = page.locator("#alert-table tbody tr[data-alert-id]")
    assert rows.count() == 50
    assert "60" in page.inner_text("#result-count")
    page.screenshot(path=str(SHOTS / "alerts.png"), full_page=False)
    page.select_option("#f-severity", ["high"])
    page.select_option("#f-district", [PUDONG])
    page.click("#apply-filters")
    page.wait_for_url("**severity=high**")
    sev = page.locator("#alert-table tbody .sev").all_inner_texts()
    assert sev and all(s == "高" for s in sev)
    assert all(d == PUDONG for d in page.locator("#alert-table tbody td:nth-child(5) small").all_inner_texts())
    # sorting by clicking a header
    page.click('a.sort[data-sort="rule"]')
    page.wait_for_url("**sort=rule**")
    rules = page.locator("#alert-table tbody a.alert-link").all_inner_texts()
    assert rules == sorted(rules, reverse=True)


def test_evidence_charts(page, site):
    sign_in(page, site, CITY)
    page.goto(f"{site['base']}/alerts/{site['headcount']}")
    chart = page.locator("svg#session-chart-S-PD-0001")
    assert chart.is_visible()
    assert chart.locator("rect.minute.uncovered").count() == 90
    assert chart.locator("rect.minute.covered").count() == 90
    assert chart.locator("polyline.headcount-line").count() == 1
    assert chart.locator("polyline.checkin-line").count() == 1
    assert chart.locator("line.threshold-line").count() == 1
    assert chart.locator("rect.cam-minute").count() == 2 * 180     # one strip per camera
    masked = page.locator("table.checkins td.id-masked").all_inner_texts()
    assert len(masked) == 9 and all("********" in m for m in masked)
    page.screenshot(path=str(SHOTS / "alert_session.png"), full_page=True)
    page.goto(f"{site['base']}/alerts/{site['claim']}")
    hours = page.locator("svg#hours-chart-CL-PD-0001")
    assert hours.locator("rect.bar.session-hours").count() == 3 and hours.locator("line.planned-line").count() == 1
    page.screenshot(path=str(SHOTS / "alert_claim.png"), full_page=True)
    page.goto(f"{site['base']}/alerts/{site['exam']}")
    hist = page.locator(f"svg#score-chart-theory-{EXAM}")
    assert hist.locator("rect.exam-bar").count() == 10 and hist.locator("polyline.baseline-line").count() == 1
    assert page.locator(".related-exam a").count() == 1          # IDENTICAL_SCORES of the same exam
    page.screenshot(path=str(SHOTS / "alert_exam.png"), full_page=True)
    page.goto(f"{site['base']}/overview")
    assert page.locator("svg#weekly-chart polyline.series").count() == 3
    assert page.locator("svg#progress-subsidised_training").count() == 1
    page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)


def test_triage_with_audit_trail(page, site):
    sign_in(page, site, PD_USER)
    page.goto(f"{site['base']}/alerts/{site['face']}")
    assert page.locator("#audit-trail li.audit-event").count() == 0
    page.check('input[name=action][value=dismiss]')
    page.click("#triage-submit")                     # no reason: the browser refuses to submit
    assert page.locator("#audit-trail li.audit-event").count() == 0
    page.fill("#comment", "学员在后排，摄像头角度问题 trainee sat outside the camera's view")
    page.click("#triage-submit")
    page.wait_for_selector("p.flash")
    assert page.inner_text("#alert-status") == "误报" and page.inner_text("p.flash") == "已保存。"
    page.check('input[name=action][value=assign]')
    page.select_option("#assignee", "pd_colleague")
    page.click("#triage-submit")
    page.wait_for_selector("p.flash")
    trail = page.locator("#audit-trail li.audit-event")
    assert trail.count() == 2
    assert "pd_colleague" in trail.nth(0).inner_text() and "待处理 → 误报" in trail.nth(1).inner_text()
    assert "camera's view" in trail.nth(1).inner_text()
    # bulk change from the list
    page.goto(f"{site['base']}/alerts?rule=HEADCOUNT_SHORTFALL&rule=CAMERA_DOWN")
    page.check("#select-all")
    page.select_option("#bulk-action", "confirm")
    page.click("#bulk-submit")
    page.wait_for_selector("p.flash")
    assert "2 条已更新" in page.inner_text("p.flash")
    assert all(s == "已确认" for s in page.locator("#alert-table tbody .status").all_inner_texts())


def test_csv_export(page, site):
    sign_in(page, site, CITY)
    page.goto(f"{site['base']}/alerts?district={HUANGPU}&active=all")
    with page.expect_download() as dl:
        page.click("#export-csv")
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {r["district_code"] for r in rows} == {HUANGPU}
    assert len(rows) == page.locator("#alert-table tbody tr[data-alert-id]").count()


def test_district_isolation_in_the_browser(page, site):
    sign_in(page, site, PD_USER)
    page.wait_for_url("**/alerts")
    assert page.locator("#f-district").count() == 0          # no district filter for a district user
    districts = set(page.locator("#alert-table tbody td:nth-child(5) small").all_inner_texts())
    assert districts == {PUDONG}
    page.goto(f"{site['base']}/alerts/{site['exam']}")
    assert "告警不存在或无权查看" in page.inner_text("main")
    page.goto(f"{site['base']}/alerts?district={HUANGPU}&org=ORG-HP-01")
    assert page.locator("#alert-table tbody tr[data-alert-id]").count() == 0
    with page.expect_download() as dl:
        page.goto(f"{site['base']}/alerts?district={HUANGPU}&active=all")
        page.click("#export-csv")
    assert len(Path(dl.value.path()).read_text(encoding="utf-8-sig").strip().splitlines()) == 1
    # Huangpu's reviewer does see it
    page.context.clear_cookies()
    sign_in(page, site, HP_USER)
    page.goto(f"{site['base']}/alerts/{site['exam']}")
    assert page.locator(f"svg#score-chart-theory-{EXAM}").is_visible()


# --- the two languages ---------------------------------------------------------------------------------

ZH_LABELS = ("告警", "概览", "退出")
EN_LABELS = ("Alerts", "Overview", "Sign out")


def assert_simplified(page, where: str, signed_in: bool = True) -> None:
    """The page is in Simplified Chinese: its lang, its labels, no Traditional-only character, no
    English label beside a Chinese one."""
    assert page.get_attribute("html", "lang") == "zh-Hans", where
    text = page.inner_text("body")
    assert not traditional_in(text), (where, traditional_in(text))
    nav = page.inner_text("header.top")
    labels = ZH_LABELS if signed_in else ("培训监管",)
    assert all(w in nav for w in labels) and not any(w in nav for w in EN_LABELS), (where, nav)
    assert "English" in nav                                   # the switch names the other language


def assert_english(page, where: str, signed_in: bool = True) -> None:
    assert page.get_attribute("html", "lang") == "en", where
    nav = page.inner_text("header.top")
    labels = EN_LABELS if signed_in else ("Training supervision",)
    assert all(w in nav for w in labels) and not any(w in nav for w in ZH_LABELS), (where, nav)
    assert "中文" in nav
    # the labels are English: Chinese remains only in data (names of institutions, people, the switch)
    for sel in ("h1", "main h2", "main th", "main label", "main button", "main legend"):
        for t in page.locator(sel).all_inner_texts():
            assert not re.search(r"[\u4e00-\u9fff]", t), (where, sel, t)


def test_the_application_in_simplified_chinese(page, site):
    """Sign-in, alert list, alert detail, triage and overview in zh-Hans (the default)."""
    page.goto(site["base"] + "/login")
    assert_simplified(page, "login", signed_in=False)
    assert page.inner_text("h1") == "登录"
    sign_in(page, site, PD_USER)
    page.wait_for_url("**/alerts")
    assert_simplified(page, "alerts")
    assert page.inner_text("#export-csv") == "导出 CSV" and "条告警" in page.inner_text("#result-count")
    assert "浦东新区" in page.inner_text("#alert-table tbody")              # district names in Simplified
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page.inner_text("#alert-table tbody"))   # dates as written in Chinese
    page.goto(f"{site['base']}/alerts/{site['claim']}")
    assert_simplified(page, "detail")
    assert page.inner_text("#triage-h") == "处理" and "学时不足" in page.inner_text("h1")
    page.check("input[name=action][value=comment]")
    page.fill("#comment", "已通知机构核实")
    page.click("#triage-submit")
    page.wait_for_selector("p.flash")
    assert_simplified(page, "after triage")
    assert "备注" in page.inner_text("#audit-trail") and "已通知机构核实" in page.inner_text("#audit-trail")
    page.goto(f"{site['base']}/overview")
    assert_simplified(page, "overview")
    assert "活跃告警趋势" in page.inner_text("main")
    page.context.clear_cookies()
    sign_in(page, site, CITY)
    page.goto(f"{site['base']}/overview")
    assert_simplified(page, "city overview")
    assert "补贴性职业技能培训" in page.inner_text(".cards") and "2024年9月" in page.inner_text("main")


def test_the_application_in_english(page, site):
    """The header's switch turns the application to English, remembered across sign-in and pages."""
    page.goto(site["base"] + "/login")
    page.click("#lang-en")
    page.wait_for_url("**lang=en**")
    assert_english(page, "login", signed_in=False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "login_en.png"))
    sign_in(page, site, CITY, "wrong password!")
    assert "Wrong user name or password" in page.inner_text("#login-error")
    sign_in(page, site, CITY)
    page.wait_for_url("**/alerts")
    assert_english(page, "alerts")
    assert page.inner_text("#export-csv") == "Export CSV" and "alerts" in page.inner_text("#result-count")
    body = page.inner_text("#alert-table tbody")
    assert "Pudong New Area" in body and not re.search(r"[\u4e00-\u9fff]", body)
    assert re.search(r"\d{1,2} [A-Z][a-z]{2,3} \d{4}", body)            # 5 Mar 2024
    page.screenshot(path=str(SHOTS / "alerts_en.png"))
    page.goto(f"{site['base']}/alerts/{site['headcount']}")
    assert_english(page, "detail")
    assert "Headcount below check-ins" in page.inner_text("h1") and page.inner_text("#triage-h") == "Triage"
    assert page.locator("svg#session-chart-S-PD-0001 > title").text_content() == "Camera coverage and headcount"
    page.screenshot(path=str(SHOTS / "alert_session_en.png"), full_page=True)
    page.goto(f"{site['base']}/alerts/{site['exam']}")
    page.check("input[name=action][value=comment]")
    page.fill("#comment", "institution asked to explain")
    page.click("#triage-submit")
    page.wait_for_selector("p.flash")
    assert_english(page, "after triage")
    assert page.inner_text("p.flash") == "Saved."
    assert "Comment" in page.inner_text("#audit-trail li.audit-event .action")
    page.goto(f"{site['base']}/overview")
    assert_english(page, "overview")
    assert "Progress against the 2024 targets" in page.inner_text("main")
    assert "Subsidised vocational skills training" in page.inner_text(".cards")
    page.screenshot(path=str(SHOTS / "overview_en.png"), full_page=True)
    # and back: the switch on any page returns to Chinese, the page's query kept
    page.goto(f"{site['base']}/alerts?severity=high")
    page.click("#lang-zh")
    page.wait_for_url("**severity=high**lang=zh-Hans**")
    assert_simplified(page, "back in Chinese")
    assert all(s == "高" for s in page.locator("#alert-table tbody .sev").all_inner_texts())
