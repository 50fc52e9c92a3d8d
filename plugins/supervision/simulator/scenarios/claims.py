"""Labelled scenarios of the rules on subsidy claims: hours, duplicates, certificates, timing.

Each function writes one instance (positives and near-misses) and returns False when no room was
free (the instance is then skipped and counted)."""
from __future__ import annotations

from supervision.simulator.scenarios.context import Ctx
from supervision.simulator.util import at


def insufficient_hours(c: Ctx, i: int) -> bool:
    r = c.room()
    if r is None:
        return False
    d, st, site = c.d, c.streams[r], c.w.sites[r].site_id
    occ = c.occ_of_room(r, i)
    cid = c.klass(c.w.sites[r].inst, occ, 5, True, 600, d, d, finished_at=at(d, 22, 50))
    s1 = c.session(cid, site, at(d, 8), at(d, 13), st)
    s2 = c.session(cid, site, at(d, 14), at(d, 19), st)
    people = []
    for j, (out2, fire, note) in enumerate(((at(d, 17), False, "attended exactly 8.0 of 10.0 planned hours"),
                                            (at(d, 16, 59), True, "attended 7h59m of 10.0 planned hours"),
                                            (None, True, "no check-out in the second session: it adds 0"))):
        p = c.person()
        tid = c.trainee(p)
        eid = c.enroll(cid, tid, completed=True)
        c.visit(s1, tid, at(d, 8), at(d, 13), st, t_in=at(d, 7, 50) + 20 * j, t_out=at(d, 13, 2) + 20 * j,
                device=c.device(r))
        c.visit(s2, tid, at(d, 14), at(d, 19), st, t_in=at(d, 13, 58) - 20 * j, t_out=out2 if out2 else False,
                face_at=at(d, 14, 5) + 10 * j, device=c.device(r))
        people.append((p, tid, eid, fire, note))
    th = ["71", "78", "84"]
    exam_id, rids = c.exam(occ, 5, at(d, 19, 30), at(d, 20, 30),
                           [(p, th[j], str(66 + 5 * j), "合格") for j, (p, *_rest) in enumerate(people)])
    org = c.org_of_exam[exam_id]
    for j, (p, tid, eid, fire, note) in enumerate(people):
        no = c.cert(p, rids[j], occ, 5, org)
        clm = c.claim(eid, tid, no, at(d, 22, 55) + 60 * j)
        c.label("INSUFFICIENT_HOURS", clm, fire, note)
    return True


def duplicate_subsidy(c: Ctx, i: int) -> bool:
    r1, r2, r3 = c.room(), c.room(), c.room()
    if r3 is None:
        return False
    # rooms are handed out in order: the last one being free means the earlier ones were too
    assert r1 is not None and r2 is not None
    d = c.d
    # (A) one person registered twice, two classes of the same occupation and level, two claims
    p = c.person()
    occ = c.occ_of_room(r1, i)
    t1, t2 = c.trainee(p), c.trainee(p, at(d, 6, 45))
    _, _, e1, _ = c.trained(r1, p, at(d, 8), 120, occ, 5, tid=t1)
    _, _, e2, _ = c.trained(r1, p, at(d, 10, 30), 120, occ, 5, tid=t2)
    _, _, no = c.certified(p, occ, 5, at(d, 13))
    c1 = c.claim(e1, t1, no, at(d, 19))
    c2 = c.claim(e2, t2, no, at(d, 19, 30))
    c.label("DUPLICATE_SUBSIDY", c1, False, "the person's first claim")
    c.label("DUPLICATE_SUBSIDY", c2, True, "same person (second trainee_id), same occupation and level")
    # (B) four claims of one person in the year, four different occupations: the 4th fires
    q = c.person()
    occs = [c.w.occupations[o].code for o in c.w.scope_occs(c.w.sites[r2].inst, d)]
    pairs = [(occs[j % len(occs)], (5, 4, 3, 2)[j // len(occs)]) for j in range(4)]  # four distinct pairs
    tq = c.trainee(q)
    claims = []
    for j, (o, lv) in enumerate(pairs):
        _, _, e, _ = c.trained(r2, q, at(d, 8) + j * 6000, 90, o, lv, tid=tq)
        _, _, no = c.certified(q, o, lv, at(d, 15) + j * 3600)
        claims.append(c.claim(e, tq, no, at(d, 20) + 600 * j, level=lv))
    c.label("DUPLICATE_SUBSIDY", claims[2], False, "third live claim of the year")
    c.label("DUPLICATE_SUBSIDY", claims[3], True, "fourth live claim of the year")
    # (C) same occupation at another level, then a third claim, and a rejected fourth: none fire
    s = c.person()
    o = c.occ_of_room(r3, i + 1)
    o2 = next((x for x in (c.w.occupations[k].code for k in c.w.scope_occs(c.w.sites[r3].inst, d)) if x != o), o)
    ts_ = c.trainee(s)
    specs = [(o, 5), (o, 4), (o2, 5), (o2, 3)] if o2 != o else [(o, 5), (o, 4), (o, 3), (o, 2)]
    cl = []
    for j, (oc, lv) in enumerate(specs):
        _, _, e, _ = c.trained(r3, s, at(d, 8) + j * 6000, 90, oc, lv, tid=ts_)
        _, _, no = c.certified(s, oc, lv, at(d, 15) + j * 3600)
        cl.append(c.claim(e, ts_, no, at(d, 20) + 600 * j, status="rejected" if j == 3 else "submitted", level=lv))
    c.label("DUPLICATE_SUBSIDY", cl[1], False, "same occupation, different skill level")
    c.label("DUPLICATE_SUBSIDY", cl[2], False, "third live claim")
    c.label("DUPLICATE_SUBSIDY", cl[3], False, "a fourth claim that is rejected (not live)")
    return True


def certificate_mismatch(c: Ctx, i: int) -> bool:
    r = c.room()
    if r is None:
        return False
    d = c.d
    occ = c.occ_of_room(r, i)
    # five people trained in the same room, one after the other
    ps = [c.person() for _ in range(5)]
    tr = [c.trained(r, p, at(d, 8) + j * 5400, 60, occ, 5) for j, p in enumerate(ps)]
    certs = [c.certified(p, occ, 5, at(d, 17) + 0)[2] for p in ps[:2]]
    _, _, lvl4 = c.certified(ps[2], occ, 4, at(d, 17, 15))
    # null certificate
    k = c.claim(tr[3][2], tr[3][3], None, at(d, 20))
    c.label("CERTIFICATE_MISMATCH", k, True, "claim without a certificate number")
    # another person's certificate (ps[0]'s), while ps[0] claims with their own
    k0 = c.claim(tr[0][2], tr[0][3], certs[0], at(d, 20, 5))
    c.label("CERTIFICATE_MISMATCH", k0, False, "own certificate, same occupation and level")
    k1 = c.claim(tr[1][2], tr[1][3], certs[0], at(d, 20, 10))
    c.label("CERTIFICATE_MISMATCH", k1, True, "certificate of another person")
    # a certificate of the right person and occupation but another level
    k2 = c.claim(tr[2][2], tr[2][3], lvl4, at(d, 20, 15))
    c.label("CERTIFICATE_MISMATCH", k2, True, "certificate of level 4 for a level-5 class")
    # an unknown certificate number
    k4 = c.claim(tr[4][2], tr[4][3], f"Y{c.ymd}9999999", at(d, 20, 20))
    c.label("CERTIFICATE_MISMATCH", k4, True, "certificate number unknown to the assessment platform")
    # second registration of a person claims with the certificate issued to the person's ID number
    p = c.person()
    t1 = c.trainee(p)
    t2 = c.trainee(p, at(d, 6, 50))
    del t1
    _, _, e, _ = c.trained(r, p, at(d, 18), 60, occ, 5, tid=t2)
    _, _, no = c.certified(p, occ, 5, at(d, 19, 30))
    k5 = c.claim(e, t2, no, at(d, 21))
    c.label("CERTIFICATE_MISMATCH", k5, False, "certificate held under the same ID number by the second trainee_id")
    return True


def early_claim(c: Ctx, i: int) -> bool:
    r = c.room()
    if r is None:
        return False
    d = c.d
    occ = c.occ_of_room(r, i)
    # class ends tomorrow: a claim at 23:50 today (15:50 UTC, same UTC date) is early...
    p = c.person()
    _, _, e, t = c.trained(r, p, at(d, 8), 120, occ, 5, end_day=d + 1, finished=False)
    _, _, no = c.certified(p, occ, 5, at(d, 13))
    k = c.claim(e, t, no, at(d, 23, 50))
    c.label("EARLY_CLAIM", k, True, "claimed 23:50 local the day before the class's end_date")
    # ...and one at 00:10 local on end_date (16:10 UTC the day before) is not
    p2 = c.person()
    _, _, e2, t2 = c.trained(r, p2, at(d, 10, 30), 120, occ, 5, end_day=d + 1, finished=False)
    _, _, no2 = c.certified(p2, occ, 5, at(d, 14, 30))
    k2 = c.claim(e2, t2, no2, at(d + 1, 0, 10))
    c.label("EARLY_CLAIM", k2, False, "claimed 00:10 local on end_date (the previous day in UTC)", ready=d + 1)
    # claimed before the certificate's issued_on (issued tomorrow)
    p3 = c.person()
    _, _, e3, t3 = c.trained(r, p3, at(d, 15), 60, occ, 5)
    _, _, no3 = c.certified(p3, occ, 5, at(d, 16, 30), issued=d + 1)
    k3 = c.claim(e3, t3, no3, at(d, 21))
    c.label("EARLY_CLAIM", k3, True, "claimed the day before the certificate was issued", ready=d + 1)
    # claimed on the issue date and end_date: fine
    p4 = c.person()
    _, _, e4, t4 = c.trained(r, p4, at(d, 17, 30), 60, occ, 5)
    _, _, no4 = c.certified(p4, occ, 5, at(d, 19))
    k4 = c.claim(e4, t4, no4, at(d, 21, 30))
    c.label("EARLY_CLAIM", k4, False, "claimed on end_date and on the certificate's issue date")
    return True

