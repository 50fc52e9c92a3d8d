"""E-mail each district bureau the new high-severity alerts of a pipeline run.

``notify_new_high_alerts`` is plain Python (smtplib); ``SupervisionAlertNotifier`` wraps it as an
Airflow notifier (``airflow.sdk.BaseNotifier``), configured from the environment:

| variable | meaning |
|---|---|
| SUPERVISION_SMTP_HOST / SUPERVISION_SMTP_PORT | SMTP server (default 127.0.0.1:25) |
| SUPERVISION_SMTP_SENDER | From: address (default supervision@localhost) |
| SUPERVISION_DISTRICT_EMAILS | JSON ``{"310101": "a@b", ..., "310000": "city@b"}`` |
| SUPERVISION_REVIEW_BASE_URL | optional link prefix for the alert pages, e.g. http://127.0.0.1:8000 |

The e-mails are in Simplified Chinese (subject, text, rule and district names, dates), the language
of the district bureaux. Alerts already sent are remembered in ``review.notifications``, so a retried
task never sends twice. Airflow is imported only by the notifier class, so the rest works without it.
"""
from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from supervision.review import i18n

log = logging.getLogger(__name__)


def _new_high_alerts(conn, since: datetime) -> list[tuple]:
    return conn.execute(
        """select a.alert_id, a.district_code, a.rule_code, a.entity_key, a.occurred_on, a.evidence,
                  a.first_detected_at
           from marts.supervision_alerts a
           where a.severity = 'high' and a.is_active and a.status = 'open' and a.first_detected_at >= %s
             and not exists (select 1 from review.notifications n where n.alert_id = a.alert_id)
           order by a.district_code, a.rule_code, a.occurred_on, a.alert_id""", (since,)).fetchall()


MAIL_LANGUAGE = "zh-Hans"


def _subject(district: str, n: int) -> str:
    return f"[培训监管] {i18n.district_name(district)} {n} 条新高风险告警"


def _body(district: str, alerts: list[tuple], base_url: str | None) -> str:
    lines = [f"{i18n.district_name(district)}（{district}）：{len(alerts)} 条新的高风险告警。", ""]
    for alert_id, _, rule, key, occurred, evidence, _ in alerts:
        line = f"- [{rule}] {i18n.rule_name(rule)} · {key} · {i18n.fmt_date(occurred)}"
        if evidence:
            line += " · " + ", ".join(f"{k}={v}" for k, v in list(evidence.items())[:4])
        if base_url:
            line += f"\n  {base_url.rstrip('/')}/alerts/{alert_id}"
        lines.append(line)
    lines += ["", "请登录培训监管告警复核系统处理。"]
    return "\n".join(lines)



def notify_new_high_alerts(warehouse_url: str | None, since: datetime, smtp_host: str, smtp_port: int,
                           addresses: dict[str, str], sender: str, base_url: str | None = None) -> int:
    """Send one e-mail per district with its new active high-severity alerts first detected at or
    after ``since`` (and not sent before). Returns the number of e-mails sent. Districts without
    an address are skipped (logged); the city's address (``310000``) gets the city's own alerts."""
    from supervision.review.schema import install

    install(warehouse_url)
    token = i18n.activate(MAIL_LANGUAGE)
    try:
        return _send(warehouse_url, since, smtp_host, smtp_port, addresses, sender, base_url)
    finally:
        i18n.deactivate(token)


def _send(warehouse_url: str | None, since: datetime, smtp_host: str, smtp_port: int, addresses: dict[str, str],
          sender: str, base_url: str | None) -> int:
    from supervision.warehouse import connect

    sent = 0
    with connect(warehouse_url) as conn:
        rows = _new_high_alerts(conn, since)
        by_district: dict[str, list[tuple]] = {}
        for r in rows:
            by_district.setdefault(r[1], []).append(r)
        if not by_district:
            return 0
        with smtplib.SMTP(smtp_host, smtp_port, timeout=30) as smtp:
            for district, alerts in sorted(by_district.items()):
                to = addresses.get(district)
                if not to:
                    log.warning("no e-mail address for district %s: %d alert(s) not sent", district, len(alerts))
                    continue
                msg = EmailMessage()
                msg["From"] = sender
                msg["To"] = to
                msg["Date"] = formatdate(localtime=True)
                msg["Message-ID"] = make_msgid(domain="supervision.local")
                msg["Subject"] = _subject(district, len(alerts))
                msg.set_content(_body(district, alerts, base_url))
                smtp.send_message(msg)
                with conn.transaction():
                    with conn.cursor() as c:
                        c.executemany("insert into review.notifications (alert_id, district_code, recipient) "
                                      "values (%s, %s, %s) on conflict do nothing",
                                      [(a[0], district, to) for a in alerts])
                sent += 1
        conn.commit()
    return sent


def settings_from_environment() -> dict:
    from supervision.config import settings

    s = settings()
    return {"smtp_host": s.smtp_host, "smtp_port": s.smtp_port, "sender": s.smtp_sender,
            "addresses": dict(s.district_emails), "base_url": s.review_base_url}


def notify_from_environment(since: datetime, warehouse_url: str | None = None) -> int:
    """The DAG's notify step: configured from SUPERVISION_SMTP_* and SUPERVISION_DISTRICT_EMAILS.
    Without any address configured it does nothing (and says so)."""
    cfg = settings_from_environment()
    if not cfg["addresses"]:
        log.info("SUPERVISION_DISTRICT_EMAILS not set: no notifications sent")
        return 0
    return notify_new_high_alerts(warehouse_url, since, **cfg)


def _notifier_base():
    from airflow.sdk import BaseNotifier

    return BaseNotifier


def __getattr__(name: str):
    # ``SupervisionAlertNotifier`` is built on first access, so importing this module never imports Airflow.
    if name == "SupervisionAlertNotifier":
        cls = _make_notifier_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


def _make_notifier_class():
    BaseNotifier = _notifier_base()  # noqa: N806

    class SupervisionAlertNotifier(BaseNotifier):
        """Airflow notifier: e-mail each district its new high-severity alerts of this DAG run.

        ``since`` defaults to the DAG run's start (alert upkeep stamps first_detected_at with it).
        Usage: ``on_success_callback=SupervisionAlertNotifier()`` on the marts DAG, or call it
        from a task with the task's context."""

        template_fields = ()

        def __init__(self, since: datetime | None = None, warehouse_url: str | None = None):
            super().__init__()
            self.since = since
            self.warehouse_url = warehouse_url

        def notify(self, context) -> None:
            since = self.since
            if since is None:
                dag_run = context.get("dag_run")
                since = getattr(dag_run, "start_date", None) or getattr(dag_run, "queued_at", None)
            if since is None:
                raise ValueError("SupervisionAlertNotifier: no 'since' and no dag_run in the context")
            n = notify_from_environment(since, self.warehouse_url)
            self.log.info("sent %d district e-mail(s) of new high-severity alerts", n)

    return SupervisionAlertNotifier
