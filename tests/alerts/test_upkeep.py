"""Alert upkeep on a real PostgreSQL: the contract's semantics of marts.supervision_alerts."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from supervision.alerts.upkeep import UpkeepError, upkeep

T0 = datetime(2024, 3, 1, 2, 0, tzinfo=timezone.utc)


def _setup(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("create schema if not exists rules")
        c.execute("""create table rules.rule_findings (rule_code text, entity_type text, entity_key text,
                     district_code text, occurred_on date, evidence jsonb)""")


def _findings(url: str, rows: list[tuple], table: str = "rules.rule_findings") -> None:
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"delete from {table}")
        for r in rows:
            if table == "ops.gx_rule_findings":
                c.execute(f"insert into {table} (rule_code, entity_type, entity_key, district_code, occurred_on,"
                          " evidence) values (%s, %s, %s, %s, %s, %s)", (*r[:5], json.dumps(r[5])))
            else:
                c.execute(f"insert into {table} values (%s, %s, %s, %s, %s, %s)", (*r[:5], json.dumps(r[5])))


def _run(url: str, t: datetime, strict: bool = True):
    with psycopg.connect(url) as c, c.transaction():
        return upkeep(c, t, strict=strict)


def _alerts(url: str) -> dict:
    with psycopg.connect(url) as c:
        rows = c.execute("""select rule_code, entity_key, alert_id, severity, district_code, evidence,
                                   first_detected_at, last_detected_at, is_active, status
                            from marts.supervision_alerts""").fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


CAM = ("CAMERA_DOWN", "session", "S1", "310104", "2024-03-01", {"uncovered_share": 0.2})
BURST = ("CHECKIN_BURST", "session", "S2", "310105", "2024-03-01", {"checkins": 6})
WEAK = ("WEAK_IDENTITY", "attendance", "42", "310104", "2024-03-01", {"method": "card"})


def test_insert_refresh_deactivate_and_status_kept(warehouse_db):
    _setup(warehouse_db)
    _findings(warehouse_db, [CAM, BURST])
    _findings(warehouse_db, [WEAK], "ops.gx_rule_findings")
    r1 = _run(warehouse_db, T0)
    assert (r1.inserted, r1.refreshed, r1.deactivated) == (3, 0, 0)
    a = _alerts(warehouse_db)
    assert set(a) == {("CAMERA_DOWN", "S1"), ("CHECKIN_BURST", "S2"), ("WEAK_IDENTITY", "42")}
    assert a[("CAMERA_DOWN", "S1")][1] == "medium" and a[("WEAK_IDENTITY", "42")][1] == "low"
    assert all(v[6] is True and v[7] == "open" and v[4] == v[5] == T0 for v in a.values())

    # a reviewer confirms one alert; the next run must not reset it
    with psycopg.connect(warehouse_db, autocommit=True) as c:
        c.execute("update marts.supervision_alerts set status = 'confirmed' where entity_key = 'S1'")
    cam2 = CAM[:5] + ({"uncovered_share": 0.3},)
    _findings(warehouse_db, [cam2])  # S2 no longer found
    t1 = T0 + timedelta(days=1)
    r2 = _run(warehouse_db, t1)
    assert (r2.inserted, r2.refreshed, r2.deactivated) == (0, 2, 1)
    a2 = _alerts(warehouse_db)
    assert len(a2) == 3, "no alert is deleted or duplicated"
    s1 = a2[("CAMERA_DOWN", "S1")]
    assert s1[0] == a[("CAMERA_DOWN", "S1")][0], "alert_id is stable"
    assert s1[3] == {"uncovered_share": 0.3} and s1[4] == T0 and s1[5] == t1 and s1[6] is True
    assert s1[7] == "confirmed", "review status never reset by a run"
    s2 = a2[("CHECKIN_BURST", "S2")]
    assert s2[6] is False and s2[5] == T0, "not found any more: inactive, last_detected_at kept"

    # found again later: active again, same row
    _findings(warehouse_db, [cam2, BURST])
    _run(warehouse_db, t1 + timedelta(days=1))
    a3 = _alerts(warehouse_db)
    assert a3[("CHECKIN_BURST", "S2")][6] is True and len(a3) == 3


def test_rerun_same_findings_changes_nothing_but_last_detected(warehouse_db):
    _setup(warehouse_db)
    _findings(warehouse_db, [CAM, BURST])
    _run(warehouse_db, T0)
    before = _alerts(warehouse_db)
    _run(warehouse_db, T0)
    assert _alerts(warehouse_db) == before


def test_alert_id_is_documented_hash(warehouse_db):
    import hashlib

    _setup(warehouse_db)
    _findings(warehouse_db, [CAM])
    _run(warehouse_db, T0)
    aid = _alerts(warehouse_db)[("CAMERA_DOWN", "S1")][0]
    assert aid == hashlib.sha256(b"CAMERA_DOWN|S1").hexdigest()[:20]


@pytest.mark.parametrize("bad, why", [
    (("NOT_A_RULE", "session", "S1", "310104", "2024-03-01", {}), "unknown rule_code"),
    (("CAMERA_DOWN", "claim", "S1", "310104", "2024-03-01", {}), "entity_type"),
    (("CONCURRENT_CHECKIN", "trainee_sessions", "T1|S2|S1", "310104", "2024-03-01", {}), "ascending"),
    (("FACE_NOT_SEEN", "session_trainee", "S1", "310104", "2024-03-01", {}), "number of parts"),
    (("WEAK_IDENTITY", "attendance", "A42", "310104", "2024-03-01", {}), "attendance key"),
    (("CAMERA_DOWN", "session", "S1", None, "2024-03-01", {}), "district_code"),
])
def test_findings_that_break_the_contract_fail_loudly(warehouse_db, bad, why):
    _setup(warehouse_db)
    _findings(warehouse_db, [CAM, bad])
    with pytest.raises(UpkeepError, match=why):
        _run(warehouse_db, T0)
    res = _run(warehouse_db, T0, strict=False)
    assert res.rejected == 1 and res.inserted == 1

