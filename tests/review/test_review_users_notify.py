"""The `supervision users` CLI and the e-mail notifications (aiosmtpd sink on 127.0.0.1)."""
from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from .seed import HUANGPU, PUDONG, add_alert

TZ = timezone(timedelta(hours=8))


def test_users_cli_add_list_passwd_disable(review_db, monkeypatch, capsys):
    from supervision.cli import build_parser
    from supervision.review.users import main

    monkeypatch.setenv("SUPERVISION_WAREHOUSE_URL", review_db)
    parser = build_parser()

    def run(*argv):
        args = parser.parse_args(["users", *argv])
        return main(args)
    assert run("add", "li.wei", "--district", PUDONG, "--password", "first password") == 0
    monkeypatch.setenv("SUPERVISION_NEW_PASSWORD", "city password 9")
    assert run("add", "chief") == 0
    with pytest.raises(SystemExit, match="unknown district"):
        run("add", "x", "--district", "999999", "--password", "long enough")
    with pytest.raises(SystemExit, match="too short"):
        run("add", "y", "--password", "short")
    run("list")
    out = capsys.readouterr().out
    assert "li.wei" in out and PUDONG in out and "chief" in out and "city" in out
    with psycopg.connect(review_db) as conn:
        h1, d = conn.execute("select password_hash, district_code from review.users where username = 'li.wei'").fetchone()
        assert h1.startswith("$argon2id$") and "first password" not in h1 and d == PUDONG
    assert run("passwd", "li.wei", "--password", "second password") == 0
    assert run("disable", "li.wei") == 0
    with psycopg.connect(review_db) as conn:
        h2, active = conn.execute("select password_hash, active from review.users where username = 'li.wei'").fetchone()
    assert h2 != h1 and active is False
    with pytest.raises(SystemExit, match="no user"):
        run("disable", "nobody")
    assert isinstance(parser.parse_args(["users", "list"]), argparse.Namespace)


def test_notify_new_high_alerts_one_mail_per_district(review_db, smtp_sink):
    from email import message_from_bytes
    from email.policy import default

    from supervision.review.notify import notify_new_high_alerts

    handler, port = smtp_sink
    run = datetime(2024, 5, 2, 3, 0, tzinfo=TZ)
    with psycopg.connect(review_db) as conn:
        add_alert(conn, "HEADCOUNT_SHORTFALL", "high", "session", "S1", PUDONG, run.date(), {"checked_in": 30}, detected=run)
        add_alert(conn, "DUPLICATE_SUBSIDY", "high", "claim", "C1", PUDONG, run.date(), {}, detected=run)
        add_alert(conn, "EXAM_DURING_TRAINING", "high", "result", "R1", HUANGPU, run.date(), {}, detected=run)
        add_alert(conn, "CAMERA_DOWN", "medium", "session", "S2", PUDONG, run.date(), {}, detected=run)       # not high
        add_alert(conn, "FACE_NOT_SEEN", "high", "session_trainee", "S0|T0", PUDONG, run.date(), {},
                  detected=run - timedelta(days=1))                                                      # older
        add_alert(conn, "DUPLICATE_SUBSIDY", "high", "claim", "C9", "310104", run.date(), {}, detected=run)  # no address
        conn.commit()
    addresses = {PUDONG: "pudong@example.test", HUANGPU: "huangpu@example.test"}
    n = notify_new_high_alerts(review_db, run, "127.0.0.1", port, addresses, "supervision@example.test",
                               base_url="http://127.0.0.1:8000")
    assert n == 2 and len(handler.messages) == 2
    by_rcpt = {m.rcpt_tos[0]: message_from_bytes(m.content, policy=default) for m in handler.messages}
    pd = by_rcpt["pudong@example.test"]
    body = pd.get_content()
    assert "HEADCOUNT_SHORTFALL" in body and "DUPLICATE_SUBSIDY" in body
    assert "CAMERA_DOWN" not in body and "FACE_NOT_SEEN" not in body
    assert "2 条新高风险告警" in pd["Subject"] and "http://127.0.0.1:8000/alerts/" in body
    assert pd["Subject"] == "[培训监管] 浦东新区 2 条新高风险告警"      # Simplified only, no English beside it
    assert "人数不足" in body and "重复补贴" in body and "請" not in body
    assert "EXAM_DURING_TRAINING" in by_rcpt["huangpu@example.test"].get_content()
    # a retry sends nothing twice
    assert notify_new_high_alerts(review_db, run, "127.0.0.1", port, addresses, "s@example.test") == 0
    assert len(handler.messages) == 2


def test_airflow_notifier_from_environment(review_db, smtp_sink, monkeypatch):
    import json

    pytest.importorskip("airflow.sdk")
    from airflow.sdk import BaseNotifier

    from supervision.review import notify

    handler, port = smtp_sink
    run = datetime(2024, 6, 1, 3, 0, tzinfo=TZ)
    with psycopg.connect(review_db) as conn:
        add_alert(conn, "CERTIFICATE_MISMATCH", "high", "claim", "C77", HUANGPU, run.date(), {}, detected=run)
        conn.commit()
    monkeypatch.setenv("SUPERVISION_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SUPERVISION_SMTP_PORT", str(port))
    monkeypatch.setenv("SUPERVISION_SMTP_SENDER", "supervision@example.test")
    monkeypatch.setenv("SUPERVISION_DISTRICT_EMAILS", json.dumps({HUANGPU: "hp@example.test"}))
    monkeypatch.setenv("SUPERVISION_WAREHOUSE_URL", review_db)
    cls = notify.SupervisionAlertNotifier
    assert issubclass(cls, BaseNotifier)

    class DagRun:
        start_date = run
    cls().notify({"dag_run": DagRun()})
    assert [m.rcpt_tos for m in handler.messages] == [["hp@example.test"]]
    assert notify.notify_from_environment(run) == 0          # already sent
