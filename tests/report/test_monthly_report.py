"""The monthly supervision report: for one district (Pudong) and the city, March 2024 of demo-like
data, the PDF's text and the XLSX's cells hold the marts' target figures and the alert table's counts
(both compared with independent queries); the e-mail reaches an SMTP server with both files; the
review application serves a district its own report only.

``REPORT_SCREENSHOT_DIR=docs/screenshots`` also writes a PNG of the district report's first page
(pdftoppm), the picture in the README."""
from __future__ import annotations

import email
import email.policy
import io
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.review.conftest import CITY, HP_USER, PD_USER
from tests.review.seed import HUANGPU, PUDONG

from .conftest import MONTH

REPO = Path(__file__).resolve().parents[2]
FIRST = date(2024, 3, 1)
CITY_CODE = "310000"


def pdf_text(data: bytes) -> str:
    """The PDF's text with all white space removed. pypdf puts a NUL or a space between the glyphs
    of fpdf2's two-byte (Identity-H) font, which poppler's pdftotext does not: the tests drop both
    and look for a table row as its cells' texts run together."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in reader.pages))


def xlsx_sheets(data: bytes) -> dict[str, list[tuple]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), data_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def mart_targets(url: str, scope: str) -> dict[str, dict]:
    """The mart's rows of the scope and month, and the city's target and percentage beside them."""
    with psycopg.connect(url) as c:
        rows = c.execute(
            "select t.metric_code, t.month_value, t.ytd_value, c.annual_target, t.ytd_pct_of_target, c.ytd_pct_of_target"
            " from marts.district_target_progress t join marts.district_target_progress c"
            " on c.district_code = '310000' and c.month = t.month and c.metric_code = t.metric_code"
            " where t.district_code = %s and t.month = %s", (scope, FIRST)).fetchall()
    return {r[0]: {"month": int(r[1]), "ytd": int(r[2]), "target": int(r[3]), "pct": r[4], "city_pct": r[5]}
            for r in rows}


def alert_counts(url: str, scope: str) -> dict[str, dict]:
    """Per rule, the alerts of the scope that occurred in the month, by review state."""
    where = "" if scope == CITY_CODE else "and district_code = %(s)s"
    with psycopg.connect(url) as c:
        rows = c.execute(
            "select rule_code, count(*), count(*) filter (where status in ('confirmed', 'dismissed', 'resolved')),"
            " count(*) filter (where status = 'confirmed'), count(*) filter (where status = 'open' and is_active)"
            f" from marts.supervision_alerts where occurred_on between '2024-03-01' and '2024-03-31' {where}"
            " group by rule_code", {"s": scope}).fetchall()
    return {r[0]: {"raised": r[1], "decided": r[2], "confirmed": r[3], "open": r[4]} for r in rows}


def _gather(url: str, scope: str):
    from supervision.report.data import gather

    with psycopg.connect(url) as conn:
        conn.execute("select review.refresh_alert_links(null)")
        return gather(conn, scope, FIRST)


def _check_targets(url: str, scope: str, text: str, sheets: dict[str, list[tuple]]) -> None:
    from supervision.report.labels import METRICS

    expected = mart_targets(url, scope)
    assert len(expected) == 7 and any(e["month"] for e in expected.values())
    sheet = {r[0]: r for r in sheets["目标进度"][1:]}
    schedule = f"{100 * 3 / 12:.2f}%"
    for code, e in expected.items():
        name, unit = METRICS[code]
        if scope == CITY_CODE:
            share = float(e["pct"])
            row = [name, unit, f"{e['month']:,}", f"{e['ytd']:,}", f"{e['target']:,}", f"{share:.2f}%", schedule]
        else:
            assert e["pct"] is None       # district rows carry no target: the report shows the city's
            share = e["ytd"] * 100 / e["target"]
            row = [name, unit, f"{e['month']:,}", f"{e['ytd']:,}", f"{e['target']:,}", f"{share:.2f}%",
                   f"{float(e['city_pct']):.2f}%", schedule]
        assert "".join(row) in text, f"PDF: no row {row}"
        x = sheet[code]
        assert (x[3], x[4], x[5]) == (e["month"], e["ytd"], e["target"]), code
        assert x[6] == pytest.approx(share, abs=1e-9)
        if scope != CITY_CODE:
            assert x[7] == pytest.approx(float(e["city_pct"]), abs=1e-9)


def _check_alerts(url: str, scope: str, text: str, sheets: dict[str, list[tuple]]) -> None:
    expected = alert_counts(url, scope)
    assert expected
    sheet = {r[0]: r for r in sheets["告警按规则"][1:] if r[0]}
    assert set(sheet) == set(expected)
    for code, e in expected.items():
        x = sheet[code]
        assert (x[3], x[4], x[5], x[8]) == (e["raised"], e["decided"], e["confirmed"], e["open"]), code
        assert f"{code}" in text
    total = sum(e["raised"] for e in expected.values())
    assert f"本月告警{total}条" in text
    confirmed = sum(e["confirmed"] for e in expected.values())
    assert len(sheets["已确认案件"]) - 1 == confirmed
    assert f"已确认案件（{confirmed}件）" in text


@pytest.mark.parametrize("scope", [PUDONG, CITY_CODE], ids=["district", "city"])
def test_report_figures_equal_the_marts(seeded, scope, tmp_path):
    from supervision.report.pdf import render_pdf
    from supervision.report.xlsx import render_xlsx

    url = seeded["url"]
    rep = _gather(url, scope)
    pdf, xlsx = render_pdf(rep), render_xlsx(rep)
    assert pdf.startswith(b"%PDF") and b"/FontFile3" in pdf      # the CJK font is embedded (a subset)
    assert len(pdf) < 400_000
    text, sheets = pdf_text(pdf), xlsx_sheets(xlsx)
    assert "月度督导报告" in text and "2024年3月" in text
    _check_targets(url, scope, text, sheets)
    _check_alerts(url, scope, text, sheets)

    # the riskiest institutions: the scorecard's top rows of the scope, in its order, with the reasons
    with psycopg.connect(url) as c:
        top = c.execute(
            "select institution_id, risk_score from marts.institution_scorecard where month = %s and risk_score > 0"
            " and (%s = '310000' or district_code = %s) order by risk_score desc, institution_id limit 10",
            (FIRST, scope, scope)).fetchall()
    rows = sheets["高风险培训机构"][1:]
    assert [(r[0], r[3]) for r in rows] == [(i, float(s)) for i, s in top]
    assert all(r[0] in text for r in rows)
    if scope == PUDONG:
        # the seed's Pudong school has this month's session alerts: they are named as the reason
        school = next(i for i in rep.institutions if i.institution_id == "INS-PD-01")
        assert "×" in school.top_rules
    assert sheets["高风险评价机构"][1:], "no evaluation org listed"
    if scope == CITY_CODE:
        districts = {r[0]: r for r in sheets["各区告警"][1:]}
        assert set(districts) >= {PUDONG, HUANGPU, CITY_CODE}

    shots = os.environ.get("REPORT_SCREENSHOT_DIR")
    if shots and scope == PUDONG and shutil.which("pdftoppm"):
        (tmp_path / "r.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "90", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "r.pdf"),
                        str(Path(shots) / "monthly_report_pdf")], check=True)


def test_report_reads_only_columns_the_marts_have():
    from supervision.report.data import MART_COLUMNS

    models = yaml.safe_load((REPO / "dbt_project/models/marts/_marts__models.yml").read_text(encoding="utf-8"))
    columns = {m["name"]: {c["name"] for c in m.get("columns", [])} for m in models["models"]}
    for mart, used in MART_COLUMNS.items():
        assert set(used) <= columns[mart], f"{mart}: {set(used) - columns[mart]}"


def test_previous_month():
    from supervision.report.data import previous_month

    assert previous_month(date(2024, 4, 2)) == date(2024, 3, 1)
    assert previous_month(date(2024, 1, 2)) == date(2023, 12, 1)


def test_reports_are_mailed_once_with_both_files(seeded, smtp_sink):
    from supervision.report.mail import send_monthly_reports

    handler, port = smtp_sink
    cfg = {"smtp_host": "127.0.0.1", "smtp_port": port, "sender": "supervision@test",
           "addresses": {PUDONG: "pudong@test", CITY_CODE: "city@test"}}
    assert send_monthly_reports(seeded["url"], FIRST, **cfg) == [PUDONG, CITY_CODE]
    assert [m.rcpt_tos for m in handler.messages] == [["pudong@test"], ["city@test"]]
    for env, scope in zip(handler.messages, (PUDONG, CITY_CODE), strict=True):
        msg = email.message_from_bytes(env.content, policy=email.policy.default)
        assert "月度督导报告" in msg["Subject"] and "2024年3月" in msg["Subject"]
        files = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
        stem = f"supervision_report_{scope}_2024-03"
        assert set(files) == {f"{stem}.pdf", f"{stem}.xlsx"}
        text, sheets = pdf_text(files[f"{stem}.pdf"]), xlsx_sheets(files[f"{stem}.xlsx"])
        _check_targets(seeded["url"], scope, text, sheets)
    # a retried task sends nothing twice
    assert send_monthly_reports(seeded["url"], FIRST, **cfg) == []
    assert len(handler.messages) == 2


def test_application_serves_a_district_its_own_report_only(report_app, make_client, seeded):
    pd = make_client(PD_USER)
    page = pd.get("/reports")
    assert page.status_code == 200 and "月度督导报告" in page.text
    assert f"/reports/{PUDONG}/{MONTH}.pdf" in page.text
    r = pd.get(f"/reports/{PUDONG}/{MONTH}.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert f"supervision_report_{PUDONG}_{MONTH}.pdf" in r.headers["content-disposition"]
    _check_targets(seeded["url"], PUDONG, pdf_text(r.content), xlsx_sheets(pd.get(f"/reports/{PUDONG}/{MONTH}.xlsx").content))
    for other in (HUANGPU, CITY_CODE):
        for fmt in ("pdf", "xlsx"):
            assert pd.get(f"/reports/{other}/{MONTH}.{fmt}").status_code == 403
    assert pd.get(f"/reports?scope={HUANGPU}").status_code == 403
    hp = make_client(HP_USER)
    assert hp.get(f"/reports/{PUDONG}/{MONTH}.xlsx").status_code == 403
    assert make_client().get(f"/reports/{PUDONG}/{MONTH}.pdf", follow_redirects=False).status_code == 303

    city = make_client(CITY)
    for scope in (PUDONG, HUANGPU, CITY_CODE):
        r = city.get(f"/reports/{scope}/{MONTH}.xlsx")
        assert r.status_code == 200 and r.content.startswith(b"PK")
    assert city.get(f"/reports/999999/{MONTH}.pdf").status_code == 404
    assert city.get(f"/reports/{PUDONG}/2024-13.pdf").status_code == 404
    assert city.get(f"/reports/{PUDONG}/{MONTH}.doc").status_code == 404
    assert f"/reports/{HUANGPU}/{MONTH}.xlsx" in city.get(f"/reports?scope={HUANGPU}").text


def test_time_to_decision_after_a_review_session(report_app, make_client, seeded):
    """Confirm two Pudong alerts and dismiss one through the application: the report's decided counts
    and its median time to decision equal those computed from the audit trail."""
    from tests.review.conftest import csrf_of

    pd = make_client(PD_USER)
    with psycopg.connect(seeded["url"]) as c:
        open_ids = [r[0] for r in c.execute(
            "select alert_id from marts.supervision_alerts where district_code = %s and status = 'open' and is_active"
            " and occurred_on between '2024-03-01' and '2024-03-31' order by alert_id", (PUDONG,)).fetchall()]
    assert len(open_ids) >= 3
    token = csrf_of(pd.get("/alerts").text)
    for ids, action, comment in ((open_ids[:2], "confirm", ""), (open_ids[2:3], "dismiss", "设备时钟偏差")):
        r = pd.post("/alerts/bulk", data={"ids": ids, "action": action, "comment": comment, "csrf_token": token},
                    follow_redirects=False)
        assert r.status_code == 303, r.text[:300]

    with psycopg.connect(seeded["url"]) as c:
        median = c.execute(
            "select percentile_cont(0.5) within group (order by extract(epoch from d.at - a.first_detected_at) / 3600)"
            " from marts.supervision_alerts a join lateral (select min(at) as at from review.alert_events e"
            "  where e.alert_id = a.alert_id and e.action in ('confirm', 'dismiss', 'resolve')) d on d.at is not null"
            " where a.district_code = %s and a.occurred_on between '2024-03-01' and '2024-03-31'", (PUDONG,)).fetchone()[0]
    sheets = xlsx_sheets(pd.get(f"/reports/{PUDONG}/{MONTH}.xlsx").content)
    total = next(r for r in sheets["告警按规则"][1:] if r[1] == "合计")
    assert total[10] == pytest.approx(median)
    expected = alert_counts(seeded["url"], PUDONG)
    assert total[4] == sum(e["decided"] for e in expected.values())
    cases = sheets["已确认案件"][1:]
    assert {r[0] for r in cases} >= set(open_ids[:2])
    assert {r[8] for r in cases if r[0] in open_ids[:2]} == {PD_USER}
