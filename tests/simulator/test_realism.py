"""Realism invariants of the simulated world: who is in the room, who they are, what exists."""
from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone

import psycopg

from supervision.config import DISTRICTS
from supervision.simulator.util import id_number_valid

LOCAL = timezone(timedelta(hours=8))


def labels(run) -> list[dict]:
    with (run.labels_dir / "labels.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def background(session_id: str) -> bool:
    return session_id[11] != "8"     # scenario ids carry an 8 after the date


def test_headcounts_of_working_cameras_match_who_is_present(run, sources):
    """Every background headcount equals the trainees checked in (and not yet out) at that second."""
    with psycopg.connect(run.url) as conn:
        sessions = conn.execute("select session_id, site_id, starts_at, ends_at from sessions "
                                "where status = 'held' and delivery = 'onsite'").fetchall()
        cams = defaultdict(list)
        for c, s in conn.execute("select camera_id, site_id from cameras"):
            cams[s].append(c)
        att = defaultdict(list)
        for sid, tid, ev, t in conn.execute("select session_id, trainee_id, event, captured_at from attendance"):
            att[sid].append((tid, ev, t))
    hc = defaultdict(list)
    for e in sources.events:
        if e["type"] == "headcount":
            hc[e["camera_id"]].append((datetime.fromisoformat(e["ts"]), e["count"]))
    checked = 0
    for sid, site, st, en in sessions:
        if not background(sid) or not cams[site]:
            continue
        ins = defaultdict(list)
        outs = defaultdict(list)
        for tid, ev, t in att[sid]:
            (ins if ev == "check_in" else outs)[tid].append(t)
        for cam in cams[site]:
            for ts, count in hc[cam]:
                if not st <= ts < en:
                    continue
                present = sum(1 for tid in ins if min(ins[tid]) <= ts and not (outs[tid] and max(outs[tid]) <= ts))
                assert count == present, (sid, cam, ts)
                checked += 1
        if ins:
            peak = max([c for cam in cams[site] for ts, c in hc[cam] if st <= ts < en] or [0])
            assert peak >= 0.8 * len(ins), sid
    assert checked > 1000


def test_heartbeats_every_five_minutes_while_sessions_run(run, sources):
    with psycopg.connect(run.url) as conn:    # cameras of rooms that host background classes
        cams = [c for (c,) in conn.execute(
            "select distinct c.camera_id from cameras c join sessions s using (site_id) "
            "where s.session_id not like 'SES________8%' order by 1")]
    beats = defaultdict(list)
    for e in sources.events:
        if e["type"] == "status" and e["state"] == "online":
            beats[e["camera_id"]].append(datetime.fromisoformat(e["ts"]))
    for cam in cams[:40]:
        ts = sorted(t for t in beats[cam] if t.date() == date(2024, 1, 3) and 7 <= t.hour < 22)
        assert ts and max(b - a for a, b in zip(ts, ts[1:], strict=False)) <= timedelta(minutes=5, seconds=30), cam


def test_id_numbers_are_valid_unless_labelled_and_agree_with_birth_dates(run):
    invalid_labelled = {r["entity_key"] for r in labels(run) if r["rule_code"] == "INVALID_ID_NUMBER"
                        and r["must_fire"] == "true"}
    with psycopg.connect(run.url) as conn:
        rows = conn.execute("select trainee_id, id_number, birth_date, gender from trainees").fetchall()
    persons = Counter(n for _, n, _, _ in rows)
    n_valid = 0
    for tid, number, birth, gender in rows:
        valid = id_number_valid(number, date(2100, 1, 1))
        assert valid != (tid in invalid_labelled), tid
        if valid:
            n_valid += 1
            assert number[6:14] == birth.strftime("%Y%m%d"), tid
            assert number[:2] == "31" and number[:6] in DISTRICTS, tid       # a Shanghai region
            if gender in ("M", "F"):        # 'U' is an injected out-of-enum fault
                assert (int(number[16]) % 2 == 1) == (gender == "M"), tid
    assert n_valid > 0.95 * len(rows)
    assert any(n > 1 for n in persons.values())          # some people are registered twice


def test_the_world_has_every_kind_of_thing(run):
    with psycopg.connect(run.url) as conn:
        q = lambda sql: {r[0] for r in conn.execute(sql)}  # noqa: E731
        assert q("select programme from classes") >= {"standard", "new_skill", "apprenticeship"}
        assert q("select category from occupations") >= {"life_service", "digital", "manufacturing", "construction"}
        assert q("select is_urgent from occupations") == {True, False}
        assert q("select method from attendance") >= {"face", "card", "manual"}
        assert q("select delivery from sessions") >= {"onsite", "online"}
        assert q("select status from subsidy_claims") >= {"submitted"}
        hours = q("select extract(hour from starts_at at time zone 'Asia/Shanghai')::int from sessions "
                  "where session_id not like 'SES________8%'")
        assert hours & {8, 9} and hours & {18, 19}                      # day and evening sessions
        assert q("select district_code from institutions") <= set(DISTRICTS)
        assert len(q("select district_code from institutions")) >= 8
        assert q("select registered from sites") == {True, False}
        kinds = set()
    for p in (run.landing / "assessment").rglob("evaluation_orgs.csv"):
        raw = p.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        kinds |= set(text.split(","))
    # every kind, in the file's script (SOURCES.md "Script"): read in the contract table's form
    as_in_the_tables = {"社会评价组织": "社會評價組織", "用人单位": "用人單位"}
    assert {"社會評價組織", "用人單位", "院校"} <= {as_in_the_tables.get(k.strip(), k.strip()) for k in kinds}


def test_every_rule_has_positive_and_near_miss_labels(run):
    from supervision.simulator import RULES

    by = defaultdict(set)
    for r in labels(run):
        by[r["rule_code"]].add(r["must_fire"])
    for rule in RULES:
        assert by[rule] == {"true", "false"}, rule
    assert set(by) == set(RULES)


def test_city_shape_at_small_scale(run):
    """Held sessions and attendance per working day scale like the city (1,500 and ~100k at 1.0)."""
    with psycopg.connect(run.url) as conn:
        per_day = dict(conn.execute("select (starts_at at time zone 'Asia/Shanghai')::date, count(*) from sessions "
                                    "where status = 'held' and session_id not like 'SES________8%' group by 1"))
        att = dict(conn.execute("select (captured_at at time zone 'Asia/Shanghai')::date, count(*) from attendance "
                                "where session_id not like 'SES________8%' group by 1"))
    for d in (date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)):
        assert 5 <= per_day.get(d, 0) <= 40, (d, per_day.get(d))
        assert 40 <= att.get(d, 0) / per_day[d] <= 90
