"""E-mail each district (and the city) its monthly report, the PDF and the XLSX attached.

Addresses are the district map the alert notifications use (``SUPERVISION_DISTRICT_EMAILS``,
district code or the city's ``310000`` -> address); SMTP settings likewise. Reports already sent
for a month are remembered in ``review.report_deliveries``, so a retried task sends only the rest.
"""
from __future__ import annotations

import logging
import smtplib
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from importlib.resources import files

from supervision.config import CITY_CODE, DISTRICTS
from supervision.report import labels
from supervision.report.data import MonthlyReport, gather
from supervision.report.pdf import render_pdf
from supervision.report.xlsx import render_xlsx

log = logging.getLogger(__name__)

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def install(conn) -> None:
    """The delivery table (idempotent)."""
    conn.execute((files("supervision") / "report" / "schema.sql").read_text(encoding="utf-8"))


def message(rep: MonthlyReport, sender: str, to: str) -> EmailMessage:
    """The e-mail of one report: a short summary in the body, the PDF and the XLSX attached."""
    where = f"{rep.scope_name}（{rep.scope}）"
    t = rep.total
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="supervision.local")
    msg["Subject"] = f"[培训监管] {rep.scope_name} {labels.month_label(rep.month)} 月度督导报告"
    lines = [f"{where} {labels.month_label(rep.month)} 月度督导报告，见附件（PDF 与 Excel）。", ""]
    if t:
        lines.append(f"本月告警 {t.raised} 条，已处理 {t.decided} 条，待处理 {t.open} 条；已确认案件 {len(rep.cases)} 件。")
    for x in rep.targets[:1]:
        lines.append(f"{x.name}：本年累计 {x.ytd_value:,} {x.unit}。")
    lines += ["", "本邮件由培训监管数据平台自动发送。"]
    msg.set_content("\n".join(lines))
    stem = rep.file_stem()
    msg.add_attachment(render_pdf(rep), maintype="application", subtype="pdf", filename=f"{stem}.pdf")
    msg.add_attachment(render_xlsx(rep), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=f"{stem}.xlsx")
    return msg


def send_monthly_reports(warehouse_url: str | None, month: date, *, smtp_host: str, smtp_port: int,
                         sender: str, addresses: dict[str, str], **_ignored) -> list[str]:
    """Send the month's report to every district (and the city) that has an address and has not
    had it yet. Returns the scopes sent, in order. ``_ignored`` takes the notifier settings' other keys."""
    from supervision.review.schema import install as install_review
    from supervision.warehouse import connect

    month = month.replace(day=1)
    scopes = [s for s in (*DISTRICTS, CITY_CODE) if addresses.get(s)]
    for missing in sorted(set(DISTRICTS) - set(addresses)):
        log.info("no e-mail address for district %s: its monthly report is not sent", missing)
    sent: list[str] = []
    install_review(warehouse_url)
    with connect(warehouse_url, autocommit=True) as conn:
        install(conn)
        conn.execute("select review.refresh_alert_links(null)")   # the institutions and orgs of new alerts
        done = {(r[0], r[1]) for r in conn.execute(
            "select scope, recipient from review.report_deliveries where month = %s", (month,))}
        todo = [s for s in scopes if (s, addresses[s]) not in done]
        if not todo:
            return sent
        with smtplib.SMTP(smtp_host, smtp_port, timeout=60) as smtp:
            for scope in todo:
                rep = gather(conn, scope, month)
                smtp.send_message(message(rep, sender, addresses[scope]))
                conn.execute("insert into review.report_deliveries (scope, month, recipient) values (%s, %s, %s) "
                             "on conflict do nothing", (scope, month, addresses[scope]))
                sent.append(scope)
                log.info("monthly report %s %s sent to %s", scope, month, addresses[scope])
    return sent


def send_from_environment(month: date, warehouse_url: str | None = None) -> list[str]:
    """The DAG's step: SMTP and addresses from the settings. Without any address it sends nothing."""
    from supervision.review.notify import settings_from_environment

    cfg = settings_from_environment()
    if not cfg["addresses"]:
        log.info("SUPERVISION_DISTRICT_EMAILS not set: no monthly reports sent")
        return []
    return send_monthly_reports(warehouse_url, month, **cfg)
