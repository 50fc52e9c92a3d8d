"""Labelled scenarios of the rules on video and attendance: cameras, headcounts, check-ins, faces,
sites, attendance windows, session hours.

Each function writes one instance (positives and near-misses) and returns False when no room was
free (the instance is then skipped and counted)."""
from __future__ import annotations

from supervision.simulator.scenarios.context import Ctx, Stream
from supervision.simulator.util import at, ts_db


def camera_down(c: Ctx, i: int) -> bool:
    r1, r2, r3 = c.room(), c.room(), c.room()
    if r3 is None:
        return False
    # rooms are handed out in order: the last one being free means the earlier ones were too
    assert r1 is not None and r2 is not None
    d = c.d
    inst = c.w.sites[r1].inst
    cid = c.klass(inst, subsidised=False)
    site = c.w.sites[r1].site_id
    st = c.streams[r1]
    cams = st.cams
    # room 1: three two-hour sessions. (a) both cameras offline for 24 of 120 minutes (20%) → fires;
    # (b) both offline for exactly 12 of 120 minutes (10%: "more than 10%" does not) → must not;
    # (c) both cameras silent (no events at all) for 40 minutes → fires.
    stories = [(at(d, 8), "offline", 60, 84, True, "20% of minutes uncovered (offline status)"),
               (at(d, 11), "offline", 30, 42, False, "exactly 10% of minutes uncovered"),
               (at(d, 14, 30), "silent", 30, 70, True, "cameras silent for 40 minutes")]
    for start, kind, a, b, fire, note in stories:
        sid = c.session(cid, site, start, start + 7200, st)
        for j in range(2):
            tid = c.trainee(c.person())
            c.enroll(cid, tid)
            c.visit(sid, tid, start, start + 7200, st, t_in=start - 300 + 40 * j, face_at=start + 180 + 20 * j,
                    device=c.device(r1))
        for k, cam in enumerate(cams):   # a non-online status: offline, occluded or tampered
            if kind == "offline":
                st.offline.append((cam, start + a * 60, start + b * 60, 1 + (k + len(st.offline)) % 3))
            else:
                st.silent.append((cam, start + a * 60, start + b * 60))
        c.label("CAMERA_DOWN", sid, fire, note)
    # room 2: one camera offline for the whole session, the other working → every minute covered
    st2, site2 = c.streams[r2], c.w.sites[r2].site_id
    cid2 = c.klass(c.w.sites[r2].inst, subsidised=False)
    start = at(d, 9)
    sid = c.session(cid2, site2, start, start + 7200, st2)
    tid = c.trainee(c.person())
    c.enroll(cid2, tid)
    c.visit(sid, tid, start, start + 7200, st2, device=c.device(r2), face_at=start + 200)
    st2.offline.append((st2.cams[0], start - 600, start + 7800, 2))
    c.label("CAMERA_DOWN", sid, False, "one of two cameras down, the other covers every minute")
    # room 3: coverage that arrives in a late file (D+2): final state covered → must not fire
    st3, site3 = c.streams[r3], c.w.sites[r3].site_id
    st3.file = (f"vms-late-{site3.lower()}.jsonl.gz", d + 2)
    cid3 = c.klass(c.w.sites[r3].inst, subsidised=False)
    sid = c.session(cid3, site3, start, start + 5400, st3)
    tid = c.trainee(c.person())
    c.enroll(cid3, tid)
    c.visit(sid, tid, start, start + 5400, st3, device=c.device(r3))
    c.label("CAMERA_DOWN", sid, False, "video delivered two days late; covered once it arrives", ready=d + 2)
    # a registered site of the class's institution without any camera: every minute uncovered
    site4, _ = c.fresh_site(inst, True, 0)
    sid = c.session(cid, site4, at(d, 17, 30), at(d, 19), None)
    tid = c.trainee(c.person())
    c.enroll(cid, tid)
    c.visit(sid, tid, at(d, 17, 30), at(d, 19), None, device="DEV" + site4[4:] + "1")
    c.label("CAMERA_DOWN", sid, True, "site has no cameras")
    return True


def headcount_shortfall(c: Ctx, i: int) -> bool:
    r = c.room()
    if r is None:
        return False
    d, st, site = c.d, c.streams[r], c.w.sites[r].site_id
    cid = c.klass(c.w.sites[r].inst, subsidised=False)
    for start, n, cap, fire, note in ((at(d, 8, 30), 10, 7, True, "10 checked in, at most 7 counted"),
                                      (at(d, 11), 10, 8, False, "10 checked in, 8 counted: exactly 0.8 x C"),
                                      (at(d, 14), 4, 0, False, "4 checked in (C < 5), nobody counted"),
                                      (at(d, 16, 30), 5, 3, True, "5 checked in (C = 5), 3 counted")):
        def count(_t: int, cap: int = cap) -> int:
            return cap

        sid = c.session(cid, site, start, start + 7200, st, count=count)
        for j in range(n):
            tid = c.trainee(c.person())
            c.enroll(cid, tid)
            # check-ins 10 s apart: no burst; everyone seen by the camera at the door
            c.visit(sid, tid, start, start + 7200, st, t_in=start - 600 + 10 * j, face_at=start + 30 + 5 * j,
                    device=c.device(r))
        c.label("HEADCOUNT_SHORTFALL", sid, fire, note)
    return True


def concurrent_checkin(c: Ctx, i: int) -> bool:
    r1, r2 = c.room(), c.room()
    if r2 is None:
        return False
    # rooms are handed out in order: the last one being free means the earlier ones were too
    assert r1 is not None
    d = c.d
    s1, s2 = c.streams[r1], c.streams[r2]
    k1 = c.klass(c.w.sites[r1].inst, subsidised=False)
    k2 = c.klass(c.w.sites[r2].inst, subsidised=False)
    site1, site2 = c.w.sites[r1].site_id, c.w.sites[r2].site_id
    # overlapping windows [10:00, 12:00) and [11:00, 13:00): fires
    a = c.session(k1, site1, at(d, 10), at(d, 12), s1)
    b = c.session(k2, site2, at(d, 11), at(d, 13), s2)
    t = c.trainee(c.person())
    c.enroll(k1, t)
    c.visit(a, t, at(d, 10), at(d, 12), s1, device=c.device(r1))
    c.visit(b, t, at(d, 11), at(d, 13), s2, t_in=at(d, 10, 58), t_out=False, device=c.device(r2), face_at=at(d, 11, 5))
    c.label("CONCURRENT_CHECKIN", f"{t}|{min(a, b)}|{max(a, b)}", True, "windows overlap by an hour")
    # touching windows [14:00, 16:00) and [16:00, 18:00): must not fire
    a2 = c.session(k1, site1, at(d, 14), at(d, 16), s1)
    b2 = c.session(k2, site2, at(d, 16), at(d, 18), s2)
    t2 = c.trainee(c.person())
    c.enroll(k1, t2)
    c.visit(a2, t2, at(d, 14), at(d, 16), s1, t_out=at(d, 15, 58), device=c.device(r1))
    c.visit(b2, t2, at(d, 16), at(d, 18), s2, t_in=at(d, 15, 59), device=c.device(r2))
    c.label("CONCURRENT_CHECKIN", f"{t2}|{min(a2, b2)}|{max(a2, b2)}", False, "windows touch (end = start)")
    return True


def checkin_burst(c: Ctx, i: int) -> bool:
    r = c.room()
    if r is None:
        return False
    d, st, site = c.d, c.streams[r], c.w.sites[r].site_id
    cid = c.klass(c.w.sites[r].inst, subsidised=True)
    for start, offsets, fire, note in (
            (at(d, 9), (0, 6, 12, 18, 24, 30), True, "6 check-ins within exactly 30 s"),
            (at(d, 12), (0, 6, 12, 18, 24, 31), False, "6 check-ins spanning 31 s"),
            (at(d, 15), (0, 5, 10, 15, 20, 60), False, "5 check-ins within 20 s, the 6th 40 s later")):
        sid = c.session(cid, site, start, start + 7200, st)
        for j, off in enumerate(offsets):
            tid = c.trainee(c.person())
            c.enroll(cid, tid)
            c.visit(sid, tid, start, start + 7200, st, t_in=start - 900 + off, t_out=start + 7200 + 60 * j,
                    face_at=start + 60 + 10 * j, device=c.device(r))
        c.label("CHECKIN_BURST", sid, fire, note)
    return True


def weak_identity(c: Ctx, i: int) -> bool:
    r = c.room()
    if r is None:
        return False
    d, st, site = c.d, c.streams[r], c.w.sites[r].site_id
    inst = c.w.sites[r].inst
    sub = c.klass(inst, subsidised=True)
    nonsub = c.klass(inst, subsidised=False)
    s1 = c.session(sub, site, at(d, 9), at(d, 11), st)
    s2 = c.session(nonsub, site, at(d, 13), at(d, 15), st)
    dev = c.device(r)
    cases = ((s1, sub, "card", None, True, "card check-in in a subsidised class"),
             (s1, sub, "manual", None, True, "manual check-in in a subsidised class"),
             (s1, sub, "face", 0.749, True, "face score 0.749 < 0.75"),
             (s1, sub, "face", 0.75, False, "face score exactly 0.75"),
             (s2, nonsub, "card", None, False, "card check-in in a class that is not subsidised"))
    for j, (sid, cid, method, score, fire, note) in enumerate(cases):
        start = at(d, 9) if sid == s1 else at(d, 13)
        tid = c.trainee(c.person())
        c.enroll(cid, tid)
        tag = c.attend(sid, tid, "check_in", start - 600 + 15 * j, method, score, dev)
        c.attend(sid, tid, "check_out", start + 7200 + 60, "face", 0.9, dev)
        st.faces.append((None, start + 100 + 10 * j, tid, 0.95))
        c.label("WEAK_IDENTITY", ("ATT", tag), fire, note)
    return True


def face_not_seen(c: Ctx, i: int) -> bool:
    r = c.room()
    if r is None:
        return False
    d, st, site = c.d, c.streams[r], c.w.sites[r].site_id
    cid = c.klass(c.w.sites[r].inst, subsidised=False)
    start, end = at(d, 10), at(d, 12)
    sid = c.session(cid, site, start, end, st)
    cases = ((0.74, start + 600, True, "only seen with score 0.74"),
             (0.75, start + 700, False, "seen with score exactly 0.75"),
             (0.95, end, True, "seen with 0.95 only at ends_at (outside [starts_at, ends_at))"),
             (0.95, start, False, "seen with 0.95 exactly at starts_at"))
    for j, (score, ts, fire, note) in enumerate(cases):
        tid = c.trainee(c.person())
        c.enroll(cid, tid)
        c.visit(sid, tid, start, end, st, t_in=start - 300 + 20 * j, face=None, device=c.device(r))
        st.faces.append((st.cams[0], ts, tid, score))
        c.label("FACE_NOT_SEEN", f"{sid}|{tid}", fire, note)
    st.faces.append((st.cams[1], start + 900, None, 0.41))   # an unmatched face, for good measure
    return True


def unregistered_site(c: Ctx, i: int) -> bool:
    r1, r2 = c.room(), c.room()
    if r2 is None:
        return False
    # rooms are handed out in order: the last one being free means the earlier ones were too
    assert r1 is not None
    d, w = c.d, c.w
    inst1 = w.sites[r1].inst
    inst2 = w.sites[r2].inst
    if inst1 == inst2:
        return False
    cid = c.klass(inst1, subsidised=False)

    def held_at(site_id: str, st: Stream | None, start: int, dev: str, delivery: str = "onsite") -> str:
        sid = c.session(cid, site_id, start, start + 5400, st, delivery=delivery)
        tid = c.trainee(c.person())
        c.enroll(cid, tid)
        c.visit(sid, tid, start, start + 5400, st if delivery == "onsite" else None, device=dev)
        return sid

    sid = held_at(w.sites[r2].site_id, c.streams[r2], at(d, 9), c.device(r2))
    c.label("UNREGISTERED_SITE", sid, True, "held at another institution's registered room")
    sid = held_at(w.sites[r2].site_id, None, at(d, 13), c.device(r2), delivery="online")
    c.label("UNREGISTERED_SITE", sid, False, "another institution's room, but the session is online")
    site, st = c.fresh_site(inst1, False, 1)
    sid = held_at(site, st, at(d, 9), "DEV" + site[4:] + "1")
    c.label("UNREGISTERED_SITE", sid, True, "site known to the platform but not registered")
    # a site first delivered unregistered and approved the next day (latest version counts)
    site2, st2 = c.fresh_site(inst1, False, 1)
    row = next(x for x in c.out.db["sites"] if x[0] == site2)
    c.add("sites", (*row[:4], True, ts_db(at(d + 1, 9, 30))))
    sid = held_at(site2, st2, at(d, 14), "DEV" + site2[4:] + "1")
    c.label("UNREGISTERED_SITE", sid, False, "site registered by a later version of its row", ready=d + 1)
    sid = held_at(w.sites[r1].site_id, c.streams[r1], at(d, 10), c.device(r1))
    c.label("UNREGISTERED_SITE", sid, False, "the institution's own registered room")
    return True


def attendance_outside_window(c: Ctx, i: int) -> bool:
    r = c.room()
    if r is None:
        return False
    d, st, site = c.d, c.streams[r], c.w.sites[r].site_id
    cid = c.klass(c.w.sites[r].inst, subsidised=True)
    start, end = at(d, 10), at(d, 12)
    n_in = 7
    sid = c.session(cid, site, start, end, st, count=lambda _t: n_in)
    dev = c.device(r)
    cases = (  # (check_in, check_out or None, which row is labelled, fires, note)
        (start - 1801, end + 300, "check_in", True, "check-in 30 min 1 s before starts_at"),
        (start - 1800, end + 300, "check_in", False, "check-in exactly 30 min before starts_at"),
        (start - 600, end + 1801, "check_out", True, "check-out 30 min 1 s after ends_at"),
        (start - 590, end + 1800, "check_out", False, "check-out exactly 30 min after ends_at"),
        (end, None, "check_in", True, "check-in exactly at ends_at"),
        (start - 580, start, "check_out", True, "check-out exactly at starts_at"),
        (end - 1, end + 600, "check_in", False, "check-in one second before ends_at"))
    for j, (t_in, t_out, which, fire, note) in enumerate(cases):
        tid = c.trainee(c.person())
        c.enroll(cid, tid)
        a = c.attend(sid, tid, "check_in", t_in, "face", 0.91, dev)
        b = c.attend(sid, tid, "check_out", t_out, "face", 0.91, dev) if t_out is not None else None
        st.faces.append((None, start + 60 + 30 * j, tid, 0.94))
        c.label("ATTENDANCE_OUTSIDE_WINDOW", ("ATT", a if which == "check_in" else b), fire, note)
        if which == "check_out":
            c.label("ATTENDANCE_OUTSIDE_WINDOW", ("ATT", a), False, "its check-in is inside the window")
    # any attendance for a cancelled session
    sid2 = c.session(cid, site, at(d, 14), at(d, 16), st, status="cancelled")
    tid = c.trainee(c.person())
    c.enroll(cid, tid)
    a = c.attend(sid2, tid, "check_in", at(d, 13, 55), "face", 0.9, dev)
    c.label("ATTENDANCE_OUTSIDE_WINDOW", ("ATT", a), True, "check-in for a cancelled session")
    return True


def session_odd_hours(c: Ctx, i: int) -> bool:
    r1, r2 = c.room(), c.room()
    if r2 is None:
        return False
    # rooms are handed out in order: the last one being free means the earlier ones were too
    assert r1 is not None
    d = c.d
    groups = {r1: ((at(d, 6, 59), at(d, 9), True, "starts 06:59"),
                   (at(d, 10), at(d, 10), True, "ends when it starts (zero length)"),
                   (at(d, 10, 30), at(d, 18, 31), True, "lasts 8 h 1 min"),
                   (at(d, 19, 1), at(d, 22, 1), True, "ends 22:01")),
              r2: ((at(d, 7), at(d, 9), False, "starts exactly 07:00"),
                   (at(d, 9, 30), at(d, 17, 30), False, "lasts exactly 8 h"),
                   (at(d, 20), at(d, 22), False, "ends exactly 22:00"))}
    for r, sessions in groups.items():
        st, site = c.streams[r], c.w.sites[r].site_id
        cid = c.klass(c.w.sites[r].inst, subsidised=False)
        for start, end, fire, note in sessions:
            sid = c.session(cid, site, start, end, st)
            tid = c.trainee(c.person())
            c.enroll(cid, tid)
            if end > start:
                c.visit(sid, tid, start, end, st, face_at=start + 120, device=c.device(r))
            else:
                c.attend(sid, tid, "check_in", start - 300, device=c.device(r))
            c.label("SESSION_ODD_HOURS", sid, fire, note)
    # an online session from 20:00 to 00:30 the next day (online: no camera rules apply)
    cid = c.klass(c.w.sites[r1].inst, subsidised=False)
    sid = c.session(cid, c.w.sites[r1].site_id, at(d, 20), at(d + 1, 0, 30), None, delivery="online")
    tid = c.trainee(c.person())
    c.enroll(cid, tid)
    c.attend(sid, tid, "check_in", at(d, 19, 55), device="APP9" + tid[-6:])
    c.label("SESSION_ODD_HOURS", sid, True, "ends on the next local date (held: delivered after midnight)", ready=d + 1)
    return True

