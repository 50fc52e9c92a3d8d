"""Labelled scenarios of the record-level rules: scope of a class, ID numbers, trainees' ages.

Each function writes one instance (positives and near-misses) and returns False when no room was
free (the instance is then skipped and counted)."""
from __future__ import annotations

from datetime import date

from supervision.simulator.scenarios.context import Ctx, Person
from supervision.simulator.util import REGIONS, at, ddate, hi, id_check_char, wrong_check


def out_of_scope(c: Ctx, i: int) -> bool:
    """Only on institutions made for the case (registered on D), so that no scope row of another
    day's case can ever cover this day's positives."""
    w, d = c.w, c.d
    y, y_out = w.occupations[0].code, w.occupations[1 + (d + i) % (len(w.occupations) - 1)].code
    j1 = c.new_institution(d - 400, d + 3 * 365, [(y, d - 30, d + 10)])
    k = c.klass(0, y_out, 5, True, 2400, d + 14, d + 50, status="planned", inst_id=j1)
    c.label("OUT_OF_SCOPE_CLASS", k, True, "occupation not in the institution's approved scope")
    k = c.klass(0, y_out, 5, True, 2400, d + 14, d + 50, status="cancelled", inst_id=j1)
    c.label("OUT_OF_SCOPE_CLASS", k, False, "out of scope but cancelled")
    k = c.klass(0, y, 5, True, 2400, d + 10, d + 40, status="planned", inst_id=j1)
    c.label("OUT_OF_SCOPE_CLASS", k, False, "start_date = approved_to (inclusive)")
    k = c.klass(0, y, 5, True, 2400, d + 11, d + 40, status="planned", inst_id=j1)
    c.label("OUT_OF_SCOPE_CLASS", k, True, "start_date one day after approved_to")
    # a newly licensed institution (licence from D+20, scope from D+10)
    j2 = c.new_institution(d + 20, d + 20 + 3 * 365, [(y, d + 10, d + 20 + 3 * 365)])
    k = c.klass(0, y, 5, True, 2400, d + 19, d + 60, status="planned", inst_id=j2)
    c.label("OUT_OF_SCOPE_CLASS", k, True, "start_date the day before the licence starts")
    k = c.klass(0, y, 5, True, 2400, d + 20, d + 60, status="planned", inst_id=j2)
    c.label("OUT_OF_SCOPE_CLASS", k, False, "start_date = license_valid_from")
    return True


def invalid_id_number(c: Ctx, i: int) -> bool:
    d, w = c.d, c.w
    good = c.person()
    while good.id_number[-1] != "X":    # a valid number whose check character is X
        good = c.person()
    t = c.trainee(good)
    c.label("INVALID_ID_NUMBER", t, False, "valid number ending in upper-case X")
    bad = c.person()
    t = c.trainee(bad, number=wrong_check(bad.id_number))
    c.label("INVALID_ID_NUMBER", t, True, "wrong check character")
    lower = c.person()
    while lower.id_number[-1] != "X":
        lower = c.person()
    t = c.trainee(lower, number=lower.id_number[:17] + "x")
    c.label("INVALID_ID_NUMBER", t, True, "check character in lower case 'x'")
    body = f"{REGIONS[(d + i) % 16]}19990231{900 + i % 90:03d}"
    p = c.special_person(date(1999, 2, 28), body + id_check_char(body))
    t = c.trainee(p, birth="1999-02-28")
    c.label("INVALID_ID_NUMBER", t, True, "birth date 1999-02-31 is not a real date (check character right)")
    # exam results: a 17-character number, a wrong check, a 1900-01-01 birth date (valid)
    occ = w.occupations[int(hi(c.seed, "iid-occ", 0, len(w.occupations), d, i))].code
    short = c.person()
    wrong = c.person()
    old = c.special_person(date(1900, 1, 1))
    rows = [(Person(short.p, short.id_number[:17], short.name, short.gender, short.birth), "70", "71", "合格"),
            (Person(wrong.p, wrong_check(wrong.id_number), wrong.name, wrong.gender, wrong.birth), "72", "73", "合格"),
            (old, "74", "75", "合格")]
    _, rids = c.exam(occ, 5, at(d, 9), at(d, 10), rows)
    c.label("INVALID_ID_NUMBER", rids[0], True, "17 characters")
    c.label("INVALID_ID_NUMBER", rids[1], True, "wrong check character")
    c.label("INVALID_ID_NUMBER", rids[2], False, "birth date 1900-01-01, the first allowed")
    return True


def age_out_of_range(c: Ctx, i: int) -> bool:
    d, w = c.d, c.w
    start = d + 7 + i
    while (ddate(start).month, ddate(start).day) in ((2, 28), (2, 29)):   # no Feb 29 birthdays
        start += 1
    sd = ddate(start)
    inst = w.sites[w.rooms[int(hi(c.seed, "age-room", 0, len(w.rooms), d, i))]].inst
    cid = c.klass(inst, None, 5, True, 2400, start, start + 40, status="planned")
    nd = ddate(start + 1)
    cases = ((sd.replace(year=sd.year - 65), True, "65th birthday on start_date: 65 and over"),
             (nd.replace(year=nd.year - 65), False, "65th birthday the day after start_date: 64"),
             (sd.replace(year=sd.year - 16), False, "16th birthday on start_date: 16"),
             (nd.replace(year=nd.year - 16), True, "16th birthday the day after start_date: 15"))
    for birth, fire, note in cases:
        p = c.special_person(birth)
        tid = c.trainee(p)
        eid = c.enroll(cid, tid)
        c.label("AGE_OUT_OF_RANGE", eid, fire, note)
    return True

