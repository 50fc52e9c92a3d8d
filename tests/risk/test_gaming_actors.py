"""The simulator's gaming actors (supervision.simulator.scenarios.gaming) stay inside every rule:
an independent, literal reading of RULES.md (tests/simulator/oracle.py) finds nothing on them,
while they do what they are labelled for (their tricks show in the sources)."""
from __future__ import annotations

import csv
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from datetime import date

import pytest

from tests.simulator import oracle
from tests.simulator.conftest import drop_db, make_db

# simulates the gaming actors and reads every rule over them (about 20 s): not in `make test-fast`
pytestmark = pytest.mark.slow

FIRST, LAST = date(2024, 1, 1), date(2024, 2, 12)
# ids of the gaming actors carry a 7 where the background has 0/1 and the scenarios 8/9
GAMING_ID = re.compile(r"(INS6000\d|SITE6\d{6}|(CLS|SES|TRN|ENR|CLM|EX|R|Y)\d{8}7\d)")


@pytest.fixture(scope="module")
def gaming_run(pg_admin_url, tmp_path_factory):
    from supervision.simulator import generate

    root = tmp_path_factory.mktemp("gaming")
    url = make_db(pg_admin_url)
    generate(FIRST, LAST, scale=0.01, seed=3, training_db_url=url, landing=root / "landing",
             labels_dir=root / "labels", anomaly_rate=0.03, fault_rate=0.0)
    try:
        yield url, root
    finally:
        drop_db(pg_admin_url, url)


@pytest.fixture(scope="module")
def gaming_sources(gaming_run) -> oracle.Sources:
    """The sources read once for the module's tests (six weeks of video: several seconds a read)."""
    url, root = gaming_run
    return oracle.load(url, root / "landing")


def test_gaming_actors_fire_no_rule(gaming_run, gaming_sources):
    _, root = gaming_run
    found = oracle.findings(gaming_sources)
    assert found, "the oracle found nothing at all: the comparison would be vacuous"
    assert [f for f in found if GAMING_ID.search(f[1])] == []
    with (root / "labels" / "gaming.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert Counter(r["entity_type"] for r in rows) == {"institution": 5, "evaluation_org": 1}
    # the actors are active: each institution held sessions and filed claims
    db = gaming_sources.db
    for n in (1, 2, 3, 4, 6):
        assert any(r["session_id"][11:15] == f"7{n}00" for r in db["sessions"]), n
        assert any(r["claim_id"][11] == "7" and r["claim_id"][-3:] == f"{n}00" for r in db["subsidy_claims"]), n


def test_gaming_actors_stay_just_inside(gaming_sources):
    """Their figures sit just on the safe side of the lines (what the risk features look for)."""
    db = gaming_sources.db
    g1 = [float(r["face_score"]) for r in db["attendance"]
          if r["event"] == "check_in" and r["session_id"][11:15] == "7100" and r["face_score"] is not None]
    assert g1 and min(g1) >= 0.75 and max(g1) < 0.80
    pair_sites = [r for r in db["sites"] if r["site_id"] in ("SITE6000301", "SITE6000401")]
    assert len({r["address"] for r in pair_sites}) == 1 and len(pair_sites) == 2


WINDOW, MIN_CHANGES, MIN_COUNTS, LOOKBACK_DAYS = 45, 10, 3, 90


def looped_sessions(src: oracle.Sources) -> dict[str, tuple[int, int]]:
    """headcount_loop (docs/RISK.md) read literally from the sources, every window (no winnowing):
    institution -> (sessions repeating a varied window of an earlier one, sessions with a window)."""
    db = src.db
    inst_of = {c["class_id"]: c["institution_id"] for c in db["classes"]}
    cams = defaultdict(list)
    for c in db["cameras"]:
        cams[c["site_id"]].append(c["camera_id"])
    counts = defaultdict(list)
    for e in sorted((e for e in src.events if e["type"] == "headcount"), key=lambda e: e["t"]):
        counts[e["camera_id"]].append(e)
    times = {cam: [e["t"] for e in lst] for cam, lst in counts.items()}
    windows = []    # (window start, institution, session, counts, varied)
    for s in db["sessions"]:
        if s["status"] != "held" or s["delivery"] != "onsite" or s["class_id"] not in inst_of:
            continue
        st, en = oracle.local_seconds(s["starts_at"]), oracle.local_seconds(s["ends_at"])
        for cam in cams.get(s["site_id"], []):
            by_minute = {}
            ts = times.get(cam, [])
            for e in counts[cam][bisect_left(ts, st):bisect_left(ts, en)]:
                by_minute[(e["t"] - st) // 60] = e["count"]
            for m in by_minute:
                w = tuple(by_minute.get(m + i) for i in range(WINDOW))
                if None in w:
                    continue
                changes = sum(1 for a, b in zip(w, w[1:], strict=False) if a != b)
                windows.append((st + 60 * m, inst_of[s["class_id"]], s["session_id"], w,
                                changes >= MIN_CHANGES and len(set(w)) >= MIN_COUNTS))
    windows.sort(key=lambda x: x[0])
    seen: dict[tuple[str, tuple], list[int]] = defaultdict(list)
    sessions, repeating = defaultdict(set), defaultdict(set)
    for t, inst, sid, w, varied in windows:
        sessions[inst].add(sid)
        if varied:
            if any(t - LOOKBACK_DAYS * 86400 <= t0 <= t - 60 * WINDOW for t0 in seen[(inst, w)]):
                repeating[inst].add(sid)
            seen[(inst, w)].append(t)
    return {inst: (len(repeating[inst]), len(sids)) for inst, sids in sessions.items()}


def test_looped_feed_repeats_and_honest_cameras_do_not(gaming_sources):
    """G3's cameras repeat one varied series in every session after its first; no other institution
    (the background's counts are exact presence, steps without noise) repeats a varied window."""
    found = looped_sessions(gaming_sources)
    k, n = found.pop("INS60006")
    assert n >= 10 and k == n - 1
    assert len(found) > 20 and {inst: kn for inst, kn in found.items() if kn[0]} == {}
