"""Gaming actors: institutions and an evaluation org that know every threshold of RULES.md and
stay just inside each one, so that no rule fires, month after month.

- ``G1`` fakes attendance "just good enough": ghost trainees checked in by face with scores just
  above ``face_min_score``, the room's headcount just at 0.8 x checked-in, check-ins from one
  device at a fixed cadence that keeps every six of them just over 30 s apart, everyone leaving
  once 80-86 % of the session is on record.
- ``G2`` claims for short attendance: 80-86 % of the hours, camera outages of 12-16 minutes in a
  three-hour session (under the 10 % line), face matches on camera just above the line.
- ``P1``/``P2``, a related pair at one address (two registered sites with the same street
  address): the same people cycle through both, each taking three classes of three different
  occupations and claiming exactly three subsidies a year (the cap), attendance otherwise clean.
- ``G3`` hides an under-occupied room behind a looped camera feed: its cameras replay one recorded
  headcount series (a full room of 18, with a real counter's minute-to-minute noise) in every
  session, from the recording's start, while ghosts are checked in; attendance, faces and hours
  are otherwise clean, so only the repeated series gives it away.
- ``EO9001``, an evaluation org that passes everyone of the gaming institutions' cohorts (fewer
  than 20 results) and keeps its larger exams one pass under the 95 % line.

Everything is a pure function of the day: each day's context emits what happens that day (a
class starting, a session held, an exam, certificates issued, claims filed), so any day can be
generated on its own and day-by-day generation equals a range. Ids use a ``7`` / ``6`` marker that
neither the background nor the labelled scenarios use. Labels go to ``gaming.csv`` (``labels``);
no rule may fire on any of these actors.

The parameters here are our own guesses at how such actors behave; the risk score is not tuned to
them (docs/RISK.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from supervision.simulator import catalogue as cat
from supervision.simulator.scenarios.context import Ctx, Person, Stream, local_time
from supervision.simulator.util import (
    P_SCENARIO,
    at,
    ddate,
    dstr,
    hi,
    hu1,
    person_id,
    person_name,
    person_phone,
    ts_db,
)
from supervision.simulator.world import WS, Org, credit_code

FIRST_DAY = WS + 7              # the actors start trading in the second week
SESSIONS_PER_CLASS = 8          # one three-hour session a working day
SESSION_MINUTES = 180
P_GAMING = P_SCENARIO + 3_000 * 20_000   # people of the gaming actors: beyond the scenarios' range


@dataclass(frozen=True)
class Actor:
    code: str          # G1, G2, P1, P2
    n: int             # id marker digit
    district: str
    cohort: tuple[int, int]   # trainees per class (lo, hi)


# G3's marker is 6: the people of marker 5 would be those of the org's exam-only candidates
ACTORS = (Actor("G1", 1, "310112", (15, 19)), Actor("G2", 2, "310115", (14, 18)),
          Actor("P1", 3, "310107", (12, 16)), Actor("P2", 4, "310107", (12, 16)),
          Actor("G3", 6, "310110", (14, 19)))
ORG_ID = "EO9001"
PAIR_ADDRESS = "上海市普陀区真北路1888号"
LABEL_FIELDS = ("entity_type", "entity_id", "actor", "tricks", "first_day")
TRICKS = {"G1": "face scores just above the line; headcount at 0.8 x checked-in; fixed check-in cadence; 80-86% hours",
          "G2": "80-86% hours; camera outages under 10% of minutes; face matches just above the line",
          "P1": "related pair: shared address and trainees, three claims per person a year",
          "P2": "related pair: shared address and trainees, three claims per person a year",
          "G3": "cameras replay one recorded headcount series in every session (a looped feed); ghosts checked in"}
RECORDED_ROOM = 18      # people in the room G3's recording was made in


def institution_id(a: Actor) -> str:
    return f"INS6000{a.n}"


def site_id(a: Actor) -> str:
    return f"SITE6{a.n:04d}01"


def cameras(a: Actor) -> list[str]:
    return [f"CAM6{a.n:04d}01{c}" for c in (1, 2)]


def labels(first: int, last: int) -> list[tuple]:
    """Rows of ``gaming.csv`` for a generated range that reaches the actors' first day."""
    if last < FIRST_DAY:
        return []
    rows = [("institution", institution_id(a), a.code, TRICKS[a.code], dstr(FIRST_DAY)) for a in ACTORS]
    rows.append(("evaluation_org", ORG_ID, "EO", "cohorts all pass; large exams one pass under 95%", dstr(FIRST_DAY)))
    return rows


# --- the plan: pure functions of the day -------------------------------------------------------

def working(d: int) -> bool:
    return ddate(d).weekday() != 6


@dataclass(frozen=True)
class ClassPlan:
    actor: Actor
    k: int                    # class number of the actor (slot for the pair)
    days: tuple[int, ...]     # session days
    occ: int                  # index into the actor's occupations

    @property
    def start(self) -> int:
        return self.days[0]

    @property
    def end(self) -> int:
        return self.days[-1]

    @property
    def class_id(self) -> str:
        return f"CLS{ddate(self.start).strftime('%Y%m%d')}7{self.actor.n}00"

    def exam_day(self) -> int:
        d = self.end + 2
        return d + 1 if not working(d) else d


@cache
def _classes(n: int, horizon: int) -> tuple[ClassPlan, ...]:
    """Back-to-back classes of actor n up to ``horizon``: 8 working days, then 3 days off."""
    a = next(x for x in ACTORS if x.n == n)
    out: list[ClassPlan] = []
    d = FIRST_DAY + (1 if a.code in ("P1", "P2") else n)   # the pair runs in step
    k = 0
    while d <= horizon:
        days: list[int] = []
        while len(days) < SESSIONS_PER_CLASS:
            if working(d):
                days.append(d)
            d += 1
        # the pair: P1 trains occupations 0, 1, 2 and P2 2, 1, 0 in the slots of a block, so each
        # cohort (P1, P2, P1 or P2, P1, P2) meets three different occupations
        occ = k % 3 if a.code != "P2" else (2 - k % 3) % 3
        out.append(ClassPlan(a, k, tuple(days), occ))
        d += 3
        k += 1
    return tuple(out)


def classes_of(a: Actor, day: int) -> tuple[ClassPlan, ...]:
    return _classes(a.n, day + 400 - day % 400)


def occupations(c: Ctx) -> list[str]:
    """Three occupations the actors train and the org certifies (the world's three most common)."""
    occs = sorted(c.w.occupations, key=lambda o: (-o.weight, o.code))
    return [o.code for o in occs[:3]]


def cohort_people(plan: ClassPlan, seed: int) -> list[int]:
    """Person numbers of a class. The pair's cohorts rotate: the people of slot k at P1 are those
    of slot k-1 at P2 and of slot k-2 at P1 (three classes each, three occupations)."""
    a = plan.actor
    if a.code in ("P1", "P2"):
        # cohort g lives for slots g..g+2 at P1, P2, P1 (g even) or P2, P1, P2 (g odd)
        step = plan.k % 3
        g = plan.k - step
        g = g + (1 if (a.code == "P2") == (step % 2 == 0) else 0)
        size = int(hi(seed, "gaming-pair-size", 12, 17, g))
        return [P_GAMING + 900_000 + g * 100 + j for j in range(size)]
    lo, hi_ = a.cohort
    size = int(hi(seed, "gaming-size", lo, hi_ + 1, a.n, plan.k))
    return [P_GAMING + a.n * 100_000 + plan.k * 100 + j for j in range(size)]


def person(seed: int, p: int) -> Person:
    number, birth, gender = person_id(p)
    return Person(p, number, person_name(seed, p), gender, birth)


def trainee_id(plan: ClassPlan, j: int) -> str:
    # the actor's digit last: enrollment ids (ENR + trainee digits + class suffix) then never
    # look like a background enrollment of the class (ENR + the class's digits), which the
    # simulator's fault injection picks by that shape
    return f"TRN{ddate(plan.start).strftime('%Y%m%d')}7{j:05d}{plan.actor.n}"


# --- what happens on a day ---------------------------------------------------------------------

def play_day(c: Ctx) -> None:
    """Everything the gaming actors do on the context's day."""
    d = c.d
    if c.rate <= 0:
        return
    if d == WS:
        _reference_rows(c)
    if d < FIRST_DAY:
        return
    occs = occupations(c)
    if working(d):
        c.csv("evaluation_orgs", _org_row(occs))
    for a in ACTORS:
        for plan in classes_of(a, d):
            if plan.start > d + 1 or plan.exam_day() + 6 < d:
                continue
            _class_day(c, plan, occs)
    _org_exams(c, occs)


def _org_row(occs: list[str]) -> dict:
    return dict(org_id=ORG_ID, name="上海华信职业技能评价中心", kind=cat.ORG_KINDS[0], district_code="310107",
                occupation_codes=";".join(sorted(occs)), registered_on="2022-06-01", valid_to="2027-05-31")


def _org() -> Org:
    return Org(-1, ORG_ID, "上海华信职业技能评价中心", cat.ORG_KINDS[0], "310107", [], 0, 0)


def _reference_rows(c: Ctx) -> None:
    occs = occupations(c)
    stamp = ts_db(at(WS, 0, 5))
    for a in ACTORS:
        iid = institution_id(a)
        c.add("institutions", (iid, f"上海市恒达{a.n}号职业技能培训学校", credit_code(c.seed, 10**7 + a.n, "52", a.district),
                               "private", a.district, "2021-03-01", "2027-02-28", stamp))
        for occ in occs:
            c.add("institution_occupations", (iid, occ, "2021-03-01", "2026-12-31", stamp))
        address = PAIR_ADDRESS if a.code in ("P1", "P2") else c.w.address(10**7 + a.n, a.district)
        c.add("sites", (site_id(a), iid, a.district, address, True, stamp))
        for cam in cameras(a):
            c.add("cameras", (cam, site_id(a), "2023-06-01", stamp))


def _class_day(c: Ctx, plan: ClassPlan, occs: list[str]) -> None:
    d, a, seed = c.d, plan.actor, c.seed
    cid = plan.class_id
    occ = occs[plan.occ]
    people = cohort_people(plan, seed)
    tids = [trainee_id(plan, j) for j in range(len(people))]
    inst = institution_id(a)
    planned = f"{SESSIONS_PER_CLASS * SESSION_MINUTES / 60:.1f}"
    base = (cid, inst, occ, 5, "standard", True, planned, dstr(plan.start), dstr(plan.end))
    if d == plan.start - 1:     # registered the day before it starts
        c.add("classes", (*base, "planned", ts_db(at(d, 15))))
        for p, tid in zip(people, tids, strict=True):
            who = person(seed, p)
            c.add("trainees", (tid, who.id_number, who.name, who.gender, who.birth.isoformat(),
                               person_phone(seed, p), ts_db(at(d, 15, 5))))
            c.add("enrollments", ("ENR" + tid[3:] + cid[-2:], cid, tid, ts_db(at(d, 15, 10)), "active", None,
                                  ts_db(at(d, 15, 10))))
        return
    if d in plan.days:
        if d == plan.start:
            c.add("classes", (*base, "running", ts_db(at(d, 7))))
        _session(c, plan, plan.days.index(d), tids)
    if d == plan.end:
        c.add("classes", (*base, "finished", ts_db(at(d, 22, 40))))
        for tid in tids:
            c.add("enrollments", ("ENR" + tid[3:] + cid[-2:], cid, tid, ts_db(at(plan.start - 1, 15, 10)), "completed",
                                  dstr(d), ts_db(at(d, 23))))
    ex_day = plan.exam_day()
    if d == ex_day:
        _cohort_exam(c, plan, occ, people)
    if d == ex_day + 2:
        for j, p in enumerate(people):
            who = person(seed, p)
            c.csv("certificates", dict(certificate_no=_cert_no(plan, j), result_id=_result_id(plan, j),
                                       id_number=who.id_number, name=who.name, occupation_code=occ, skill_level="5",
                                       issued_on=dstr(d), org_id=ORG_ID))
    if d == ex_day + 4:
        for j, tid in enumerate(tids):
            eid = "ENR" + tid[3:] + cid[-2:]
            c.claim(eid, tid, _cert_no(plan, j), at(d, 10) + 37 * j)


def _exam_id(plan: ClassPlan) -> str:
    return f"EX{ddate(plan.exam_day()).strftime('%Y%m%d')}7{plan.actor.n}00000"


def _result_id(plan: ClassPlan, j: int) -> str:
    return f"R{_exam_id(plan)[2:]}{j:03d}"


def _cert_no(plan: ClassPlan, j: int) -> str:
    return f"Y{ddate(plan.exam_day()).strftime('%Y%m%d')}7{plan.actor.n}{j:05d}"


def _session(c: Ctx, plan: ClassPlan, i: int, tids: list[str]) -> None:
    """Session i of a class: attendance, the room's headcount and faces, per the actor's tricks."""
    d, a, seed = c.d, plan.actor, c.seed
    start = at(d, 9)
    end = start + SESSION_MINUTES * 60
    cams = cameras(a)
    st = Stream(cams, d)
    c.fresh_streams.append((site_id(a), st))
    c.sess_n[plan.class_id] = i          # session ids SES<class>01..08 follow the session's number
    key = (a.n, plan.k, i)
    n = len(tids)
    if a.code == "G1":
        # ghosts: about a fifth of the cohort is checked in but not in the room
        present = -(-n * (80 + int(hi(seed, "g1-present", 0, 5, *key))) // 100)
        counted = max(present, -(-4 * n // 5))

        def headcount(_t: int, k: int = counted) -> int:
            return k

        sid = c.session(plan.class_id, site_id(a), start, end, st, count=headcount)
    elif a.code == "G3":
        recording = _recording(seed)

        def replayed(t: int, s0: int = start) -> int:
            return recording[min((t - s0) // 60, len(recording) - 1)]

        sid = c.session(plan.class_id, site_id(a), start, end, st, count=replayed)
    else:
        sid = c.session(plan.class_id, site_id(a), start, end, st)
    device = f"DEV{site_id(a)[4:]}1"
    t = start - 60 * int(hi(seed, "g-open", 8, 15, *key) if a.code == "G1" else hi(seed, "g-open", 15, 25, *key))
    for j, tid in enumerate(tids):
        u = hu1(seed, "g-att", *key, j)
        if a.code == "G1":
            t += (6, 6, 6, 6, 7)[j % 5]                       # six check-ins always span 31 s
            score = 0.750 + 0.035 * u
            t_out = start + int(SESSION_MINUTES * 60 * (0.81 + 0.05 * hu1(seed, "g-out", *key, j)))
            face = 0.751 + 0.03 * hu1(seed, "g-face", *key, j)
        elif a.code == "G2":
            t += int(hi(seed, "g-gap", 9, 40, *key, j))
            score = 0.78 + 0.2 * u
            t_out = start + int(SESSION_MINUTES * 60 * (0.81 + 0.05 * hu1(seed, "g-out", *key, j)))
            face = 0.752 + 0.035 * hu1(seed, "g-face", *key, j)
        else:
            t += int(hi(seed, "g-gap", 9, 40, *key, j))
            score = 0.78 + 0.21 * u
            t_out = end + int(hi(seed, "g-late", 30, 600, *key, j))
            face = 0.80 + 0.19 * hu1(seed, "g-face", *key, j)
        c.attend(sid, tid, "check_in", t, "face", score, device)
        c.attend(sid, tid, "check_out", t_out, "face", 0.78 + 0.2 * hu1(seed, "g-out-score", *key, j), device)
        st.faces.append((None, max(t, start) + 60 + int(hi(seed, "g-seen", 0, 1200, *key, j)), tid, round(face, 3)))
    if a.code == "G2":
        gap = int(hi(seed, "g2-outage", 12, 17, *key))
        off = start + 60 * int(hi(seed, "g2-outage-at", 30, 140, *key))
        for k, cam in enumerate(cams):
            st.offline.append((cam, off, off + gap * 60, 1 + k))


@cache
def _recording(seed: int) -> tuple[int, ...]:
    """G3's recorded headcounts, one a minute of a session: a room of RECORDED_ROOM filling in the
    first minutes, thinning over a mid-session break, with a people counter's noise (occlusions
    undercount by one or two, a passer-by adds one)."""
    out = []
    for m in range(SESSION_MINUTES):
        present = RECORDED_ROOM - max(0, 6 - m) if m < 6 else RECORDED_ROOM
        if 85 <= m < 97:
            present -= (5, 9, 11, 12, 12, 11, 12, 10, 8, 6, 3, 1)[m - 85]
        noise = (-2, -1, -1, 0, 0, 0, 0, 1)[int(hi(seed, "g3-noise", 0, 8, m))]
        out.append(max(0, present + noise))
    return tuple(out)


def _scores(seed: int, key: tuple, n: int, passes: int) -> list[tuple[str, str, str]]:
    """Distinct (theory, practical, flag) triples: passes first, then failures (both < 60)."""
    rows, seen = [], set()
    for j in range(n):
        ok = j < passes
        lo, span = (61, 38) if ok else (35, 23)
        th = lo + int(hi(seed, "g-th", 0, span, *key, j))
        pr = lo + int(hi(seed, "g-pr", 0, span, *key, j))
        while (th, pr) in seen:
            pr = lo + (pr - lo + 1) % span
        seen.add((th, pr))
        rows.append((str(th), str(pr), "合格" if ok else "不合格"))
    return rows


def _exam_rows(c: Ctx, exam_id: str, occ: str, people: list[int], passes: int, start: int, key: tuple) -> None:
    end = start + 7200
    c.csv("exam_sessions", dict(exam_id=exam_id, org_id=ORG_ID, occupation_code=occ, skill_level="5",
                                starts_at=local_time(start), ends_at=local_time(end),
                                assessor_ids=";".join(c.assessor() for _ in range(2)), registered=str(len(people))))
    for j, (p, (th, pr, flag)) in enumerate(zip(people, _scores(c.seed, key, len(people), passes), strict=True)):
        who = person(c.seed, p)
        c.csv("exam_results", dict(result_id=f"R{exam_id[2:]}{j:03d}", exam_id=exam_id, id_number=who.id_number,
                                   name=who.name, theory_score=th, practical_score=pr, passed=flag,
                                   recorded_at=local_time(end + 1800 + j)))


def _cohort_exam(c: Ctx, plan: ClassPlan, occ: str, people: list[int]) -> None:
    """A cohort of fewer than 20: everyone passes (ABNORMAL_PASS_RATE needs n >= 20)."""
    _exam_rows(c, _exam_id(plan), occ, people, len(people), at(c.d, 14), (1, plan.actor.n, plan.k))


def _org_exams(c: Ctx, occs: list[str]) -> None:
    """Exam-only candidates, every other working day: 20-23 results, one or two passes under 95 %,
    or 19 results (one under the rule's n) all passing."""
    d = c.d
    if not working(d) or d % 2:
        return
    key = (2, d)
    n = int(hi(c.seed, "g-batch-n", 19, 24, d))
    passes = n if n < 20 else -(-95 * n // 100) - 1 - int(hi(c.seed, "g-batch-under", 0, 2, d))
    occ = occs[int(hi(c.seed, "g-batch-occ", 0, 3, d))]
    people = [P_GAMING + 500_000 + (d - WS) * 30 + j for j in range(n)]
    _exam_rows(c, f"EX{ddate(d).strftime('%Y%m%d')}7900000", occ, people, passes, at(d, 9), key)


__all__ = ["ACTORS", "LABEL_FIELDS", "ORG_ID", "institution_id", "labels", "play_day"]
