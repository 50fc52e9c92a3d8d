"""Labelled anomalies: for every rule of RULES.md, positive cases and near-miss negatives.

Each scenario is a small, self-contained story that starts on an origin day D and uses only its own
people, classes, exams and a scenario room of its own for the day (rooms are registered sites that
background classes never use, with two cameras whose whole video stream is written here). So a
scenario can not be disturbed by background data, and background data (designed to fire nothing,
see ``background.py``) can not make a labelled negative fire.

A label says what the pipeline must conclude from the *final* state of the sources, once
everything of the scenario has been delivered (``ready`` day, usually D; a day or two later for
scenarios about late files and corrections). Labels are written only once ready.

Time lines are compressed into the origin day on purpose (a one-session class, its exam in the
afternoon, the certificate and the claim the same evening): it keeps every case visible within a
two-day test run. Boundaries follow the rules' text literally; where a boundary is exact (10% of
minutes, 0.8 x checked-in, 30 s, 0.75, 60, 16/65 years, 30 min) the negative sits exactly on it and
a positive one unit past it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from supervision.simulator import catalogue as cat
from supervision.simulator.background import HB_FIRST, HB_LAST, unique_theory
from supervision.simulator.util import (
    DAY,
    P_SCENARIO,
    REGIONS,
    at,
    day_rng,
    ddate,
    dstr,
    hi,
    hu,
    id_check_char,
    make_id_number,
    person_id,
    person_name,
    person_phone,
    ts_db,
    wrong_check,
)
from supervision.simulator.world import WS, World

RULES = ("CAMERA_DOWN", "HEADCOUNT_SHORTFALL", "CONCURRENT_CHECKIN", "CHECKIN_BURST", "WEAK_IDENTITY",
         "FACE_NOT_SEEN", "INSUFFICIENT_HOURS", "DUPLICATE_SUBSIDY", "CERTIFICATE_MISMATCH", "EARLY_CLAIM",
         "OUT_OF_SCOPE_CLASS", "UNREGISTERED_SITE", "CERTIFICATE_WITHOUT_PASS", "ABNORMAL_PASS_RATE",
         "IDENTICAL_SCORES", "EXAM_DURING_TRAINING", "ASSESSOR_DOUBLE_BOOKED", "INVALID_ID_NUMBER",
         "AGE_OUT_OF_RANGE", "ATTENDANCE_OUTSIDE_WINDOW", "SESSION_ODD_HOURS", "SCORE_FLAG_MISMATCH")
STATES = ("online", "offline", "occluded", "tampered")
MAX_LAG = 4   # days between a scenario's origin and its last delivery (late video up to D+2)


@dataclass
class Label:
    rule: str
    key: str | tuple        # ('ATT', tag) until attendance ids are assigned
    must_fire: bool
    day: int
    note: str
    ready: int


@dataclass
class Person:
    p: int
    id_number: str
    name: str
    gender: str
    birth: date


class Stream:
    """The complete video of one room's cameras on one day, with outages and what is seen."""

    def __init__(self, cams: list[str], day: int):
        self.cams, self.day = cams, day
        self.silent: list[tuple[str, int, int]] = []
        self.offline: list[tuple[str, int, int, int]] = []   # (camera, from, to, state index)
        self.sessions: list[tuple[int, int, Callable[[int], int]]] = []
        self.faces: list[tuple[str | None, int, str | None, float]] = []
        self.hb_from, self.hb_to = at(day, 0) + HB_FIRST, at(day, 0) + HB_LAST
        self.file: tuple[str, int] | None = None   # (file name, delivery day) when not the shard file

    def need(self, start: int, end: int) -> None:
        """Heartbeats must cover [start, end) (odd-hours sessions)."""
        self.hb_from = max(at(self.day, 0), min(self.hb_from, start - 1800))
        self.hb_to = min(at(self.day + 1, 0) - 1, max(self.hb_to, end + 1800))

    def down(self, cam: str, t: int) -> bool:
        return any(c == cam and a <= t < b for c, a, b in self.silent) or \
            any(c == cam and a <= t < b for c, a, b, _ in self.offline)

    def events(self, rng: np.random.Generator) -> list[tuple]:
        """(camera_id, ts, type, value, trainee_id, score) events; type 0 status, 1 headcount, 2 face."""
        ev: list[tuple] = []
        for cam in self.cams:
            t = self.hb_from
            while t < self.hb_to:
                ts = t + int(rng.integers(0, 21))
                near_off = any(c == cam and a - 20 <= ts < b + 20 for c, a, b, _ in self.offline)
                if not self.down(cam, ts) and not near_off:
                    ev.append((cam, ts, 0, 0, None, 0.0))
                t += 300
        for cam, a, b, state in self.offline:
            ev.append((cam, a, 0, state, None, 0.0))
            if b < at(self.day + 1, 0):
                ev.append((cam, b, 0, 0, None, 0.0))
        for start, end, count in self.sessions:
            for m in range((end - start) // 60):
                ts = start + 60 * m + int(rng.integers(0, 41))
                for cam in self.cams:
                    if not self.down(cam, ts):
                        ev.append((cam, ts, 1, count(ts), None, 0.0))
        for cam, ts, tid, score in self.faces:
            c = cam or next((x for x in self.cams if not self.down(x, ts)), self.cams[0])
            ev.append((c, ts, 2, 0, tid, score))
        return ev


@dataclass
class Out:
    """Everything the scenarios of one origin day deliver."""
    db: dict[str, list[tuple]] = field(default_factory=dict)
    attendance: list[list] = field(default_factory=list)   # [sid, tid, event, method, device, ls, score, tag]
    streams: list[tuple[int, Stream]] = field(default_factory=list)  # (site idx, stream)
    csv: dict[tuple[int, str], list[dict]] = field(default_factory=dict)
    labels: list[Label] = field(default_factory=list)
    skipped: int = 0


def instances(seed: int, rule: str, day: int, rate: float, scale: float) -> int:
    """How many times a rule's scenario runs on a day: rate x the city's expected held sessions
    (1,500 x scale on Monday-Saturday, none on Sundays), stochastically rounded. Independent of
    the actual background so that any day's count can be computed on its own."""
    if rate <= 0 or ddate(day).weekday() == 6:
        return 0
    x = rate * 1500 * scale
    return int(x + hu(seed, "inst-" + rule, day))


class Ctx:
    """Origin day D: hands out rooms, people and ids, and records rows, events and labels."""

    def __init__(self, world: World, day: int, rate: float):
        self.w, self.seed, self.d, self.rate = world, world.seed, day, rate
        self.rng = day_rng(self.seed, day, "scenario")
        self.out = Out()
        rooms = list(world.rooms)
        order = self.rng.permutation(len(rooms))
        self.free_rooms = [rooms[i] for i in order]
        self.n = {"p": 0, "class": 0, "tr": 0, "exam": 0, "kp": 0, "site": 0, "inst": 0, "att": 0, "cert": 0,
                  "special": 0}
        self.ymd = ddate(day).strftime("%Y%m%d")
        self.streams: dict[int, Stream] = {}
        for s in world.rooms:       # every room's cameras heartbeat every day
            st = Stream(world.sites[s].cameras, day)
            self.streams[s] = st
            self.out.streams.append((s, st))

    # --- allocation ----------------------------------------------------------------------------
    def _next(self, k: str) -> int:
        self.n[k] += 1
        return self.n[k]

    def room(self) -> int | None:
        return self.free_rooms.pop() if self.free_rooms else None

    def person(self) -> Person:
        p = P_SCENARIO + (self.d - WS) * 20000 + self._next("p")
        number, birth, gender = person_id(p)
        return Person(p, number, person_name(self.seed, p), gender, birth)

    def special_person(self, birth: date, number: str | None = None) -> Person:
        """A person with a chosen birth date: sequence numbers 900-999 are outside the bijection."""
        k = self._next("special")
        p = P_SCENARIO + (self.d - WS) * 20000 + 15000 + k
        seq = 900 + (k // 16) % 100
        number = number or make_id_number(REGIONS[k % 16], birth, seq)
        return Person(p, number, person_name(self.seed, p), "M" if seq % 2 else "F", birth)

    def add(self, table: str, row: tuple) -> None:
        self.out.db.setdefault(table, []).append(row)

    def csv(self, kind: str, row: dict, day: int | None = None) -> None:
        self.out.csv.setdefault((self.d if day is None else day, kind), []).append(row)

    def label(self, rule: str, key: str | tuple, must_fire: bool, note: str, ready: int | None = None) -> None:
        self.out.labels.append(Label(rule, key, must_fire, self.d, note, self.d if ready is None else ready))

    # --- training platform rows ----------------------------------------------------------------
    def site_row(self, s: int) -> tuple:
        return self.w.sites[s]

    def trainee(self, person: Person, when: int | None = None, number: str | None = None,
                birth: str | None = None) -> str:
        tid = f"TRN{self.ymd}8{self._next('tr'):06d}"
        self.add("trainees", (tid, number or person.id_number, person.name, person.gender,
                              birth or person.birth.isoformat(), person_phone(self.seed, person.p),
                              ts_db(when or at(self.d, 6, 30))))
        return tid

    def klass(self, inst: int, occ: str | None = None, level: int = 5, subsidised: bool = True,
              planned_minutes: int = 2400, start: int | None = None, end: int | None = None,
              status: str = "running", finished_at: int | None = None, programme: str = "standard",
              inst_id: str | None = None) -> str:
        w = self.w
        d = self.d
        if occ is None:
            occs = w.scope_occs(inst, start if start is not None else d)
            occ = w.occupations[occs[int(hi(self.seed, "sc-occ", 0, len(occs), d, self.n["class"]))]].code
        cid = f"CLS{self.ymd}{8000 + self._next('class'):04d}"
        row = [cid, inst_id or w.institutions[inst].institution_id, occ, level, programme, subsidised,
               f"{planned_minutes / 60:.1f}", dstr(d if start is None else start), dstr(d + 30 if end is None else end),
               status, ts_db(at(d, 6, 0) + self.n["class"])]
        self.add("classes", tuple(row))
        if finished_at is not None:
            row[9], row[10] = "finished", ts_db(finished_at)
            self.add("classes", tuple(row))
        return cid

    def session(self, cid: str, site_id: str, start: int, end: int, stream: Stream | None,
                delivery: str = "onsite", status: str = "held", count: Callable[[int], int] | None = None,
                n_sess: list[int] | None = None) -> str:
        n = self._sess_n[cid] = self._sess_n.get(cid, 0) + 1
        sid = f"SES{cid[3:]}{n:02d}"
        created = at(self.d, 6, 5)
        self.add("sessions", (sid, cid, site_id, ts_db(start), ts_db(end), delivery, "scheduled", ts_db(created)))
        if status != "scheduled":
            upd = max(end, start) + 900 if status == "held" else at(self.d, 6, 10)
            self.add("sessions", (sid, cid, site_id, ts_db(start), ts_db(end), delivery, status, ts_db(upd)))
        if stream is not None and delivery == "onsite" and status == "held":
            stream.need(start, end)
            who = self._present.setdefault(sid, set())
            stream.sessions.append((start, end, count or (lambda _t, who=who: len(who))))
        return sid

    _present: dict[str, set[str]]
    _sess_n: dict[str, int]

    def enroll(self, cid: str, tid: str, completed: bool = False) -> str:
        eid = "ENR" + tid[3:] + cid[-2:]
        self.add("enrollments", (eid, cid, tid, ts_db(at(self.d, 6, 40)), "active", None, ts_db(at(self.d, 6, 40))))
        if completed:
            self.add("enrollments", (eid, cid, tid, ts_db(at(self.d, 6, 40)), "completed", dstr(self.d),
                                     ts_db(at(self.d, 18))))
        return eid

    def attend(self, sid: str, tid: str, event: str, t: int, method: str = "face", score: float | None = 0.92,
               device: str = "DEV9", tag: str | None = None) -> str:
        tag = tag or f"a{self._next('att')}"
        sc = f"{score:.3f}" if method == "face" and score is not None else None
        self.out.attendance.append([sid, tid, event, method, device, t, sc, tag])
        if event == "check_in":
            self._present.setdefault(sid, set()).add(tid)
        return tag

    def visit(self, sid: str, tid: str, start: int, end: int, stream: Stream | None, t_in: int | None = None,
              t_out: int | None | bool = None, face: float | None = 0.93, face_at: int | None = None,
              device: str = "DEV9", method: str = "face", score: float = 0.92) -> None:
        """A normal attendance: check in a few minutes before, out a few after, seen by a camera."""
        self.attend(sid, tid, "check_in", t_in if t_in is not None else start - 300, method, score, device)
        if t_out is not False:
            self.attend(sid, tid, "check_out", t_out if isinstance(t_out, int) and t_out is not True else end + 180,
                        method, score, device)
        if stream is not None and face is not None:
            stream.faces.append((None, face_at if face_at is not None else start + 240, tid, face))

    def claim(self, eid: str, tid: str, cert: str | None, claimed: int, status: str = "submitted",
              level: int = 5) -> str:
        cid = "CLM" + eid[3:]
        amount = f"{cat.SUBSIDY_BY_LEVEL[level]:.2f}"
        self.add("subsidy_claims", (cid, eid, tid, cert, amount, ts_db(claimed), status, ts_db(claimed)))
        return cid

    # --- assessment rows -----------------------------------------------------------------------
    def assessor(self) -> str:
        return f"KP9{self.d - WS:04d}{self._next('kp'):03d}"

    def exam(self, occ: str, level: int, start: int, end: int, cands: list[tuple[Person, str, str, str]],
             assessors: list[str] | None = None, org=None, day: int | None = None,
             result_day: int | None = None) -> tuple[str, list[str]]:
        """An exam session with results ``(person, theory, practical, 合格|不合格)`` as delivered text."""
        org = org or self.w.org_for(occ, self.d, self.d * 1000 + self.n["exam"], "sc-org")
        exam_id = f"EX{self.ymd}9{self._next('exam'):06d}"
        self.csv("exam_sessions", dict(exam_id=exam_id, org_id=org.org_id, occupation_code=occ, skill_level=str(level),
                                       starts_at=_lt(start), ends_at=_lt(end),
                                       assessor_ids=";".join(assessors or [self.assessor(), self.assessor()]),
                                       registered=str(len(cands))), day)
        rids = []
        for i, (person, th, pr, flag) in enumerate(cands):
            rid = f"R{exam_id[2:]}{i:03d}"
            rids.append(rid)
            self.csv("exam_results", dict(result_id=rid, exam_id=exam_id, id_number=person.id_number, name=person.name,
                                          theory_score=th, practical_score=pr, passed=flag,
                                          recorded_at=_lt(max(end, start) + 1800 + i)), result_day or day)
        self._org_of_exam[exam_id] = org
        return exam_id, rids

    _org_of_exam: dict

    def cert(self, person: Person, result_id: str, occ: str, level: int, org, issued: int | None = None) -> str:
        no = f"Y{self.ymd}9{self._next('cert'):06d}"
        day = self.d if issued is None else issued
        self.csv("certificates", dict(certificate_no=no, result_id=result_id, id_number=person.id_number,
                                      name=person.name, occupation_code=occ, skill_level=str(level),
                                      issued_on=dstr(day), org_id=org.org_id), day)
        return no

    # --- composite stories ---------------------------------------------------------------------
    def occ_of_room(self, room: int, k: int = 0) -> str:
        occs = self.w.scope_occs(self.w.sites[room].inst, self.d)
        return self.w.occupations[occs[k % len(occs)]].code

    def trained(self, room: int, person: Person, start: int, minutes: int, occ: str | None = None,
                level: int = 5, tid: str | None = None, end_day: int | None = None,
                finished: bool = True) -> tuple[str, str, str, str]:
        """A one-session subsidised class in ``room`` fully attended by ``person``:
        returns (class_id, session_id, enrollment_id, trainee_id)."""
        inst = self.w.sites[room].inst
        occ = occ or self.occ_of_room(room)
        tid = tid or self.trainee(person)
        end_day = self.d if end_day is None else end_day
        cid = self.klass(inst, occ, level, True, minutes, self.d, end_day,
                         finished_at=at(end_day, 22, 50) if finished else None)
        st = self.streams[room]
        sid = self.session(cid, self.w.sites[room].site_id, start, start + minutes * 60, st)
        eid = self.enroll(cid, tid, completed=finished)
        self.visit(sid, tid, start, start + minutes * 60, st, device=self.device(room))
        return cid, sid, eid, tid

    def certified(self, person: Person, occ: str, level: int, start: int, minutes: int = 50,
                  cert_level: int | None = None, issued: int | None = None) -> tuple[str, str, str]:
        """An exam the person passes and the certificate issued on it: (exam_id, result_id, cert_no)."""
        th, pr = self.pass_scores()
        exam_id, rids = self.exam(occ, level, start, start + minutes * 60, [(person, th, pr, "合格")])
        org = self._org_of_exam[exam_id]
        no = self.cert(person, rids[0], occ, level if cert_level is None else cert_level, org, issued)
        return exam_id, rids[0], no

    def pass_scores(self) -> tuple[str, str]:
        k = self._next("exam") * 7
        return str(70 + k % 25), str(65 + (k * 3) % 30)

    def device(self, room: int) -> str:
        return f"DEV{self.w.sites[room].site_id[4:]}1"

    def fresh_site(self, inst: int, registered: bool, cams: int) -> tuple[str, Stream | None]:
        k = self._next("site")
        site_id = f"SITE9{self.d - WS:04d}{k:02d}"
        inst_obj = self.w.institutions[inst]
        self.add("sites", (site_id, inst_obj.institution_id, inst_obj.district, self.w.address(10**6 + self.d * 100 + k,
                                                                                                inst_obj.district),
                           registered, ts_db(at(self.d, 6, 1))))
        if not cams:
            return site_id, None
        cam_ids = [f"CAM9{self.d - WS:04d}{k:02d}{c + 1}" for c in range(cams)]
        for cam in cam_ids:
            self.add("cameras", (cam, site_id, dstr(self.d - 1), ts_db(at(self.d, 6, 2))))
        st = Stream(cam_ids, self.d)
        self._fresh_streams.append((site_id, st))
        return site_id, st

    _fresh_streams: list

    def new_institution(self, lic_from: int, lic_to: int, scopes: list[tuple[str, int, int]]) -> str:
        """An institution registered on D (ids INS5xxxx: never used by the background)."""
        from supervision.simulator.world import credit_code

        n = self._next("inst")
        iid = f"INS{50000 + (self.d - WS) * 10 + n:05d}"
        district = list(cat.DISTRICT_WEIGHTS)[(self.d + n) % 16]
        self.add("institutions", (iid, f"上海市新啟{(self.d - WS) * 10 + n}號職業技能培訓學校",
                                  credit_code(self.seed, 10**6 + self.d * 10 + n, "52", district), "private", district,
                                  dstr(lic_from), dstr(lic_to), ts_db(at(self.d, 6, 2))))
        for occ, a, b in scopes:
            self.add("institution_occupations", (iid, occ, dstr(a), dstr(b), ts_db(at(self.d, 6, 3))))
        return iid


def _lt(ls: int) -> str:
    d, s = divmod(int(ls), DAY)
    from supervision.simulator.util import HMS

    return f"{dstr(d)} {HMS[s]}"


# ==================================================================================== the rules
# Each function writes one instance (positives and near-misses) and returns False when no room was
# free (the instance is then skipped and counted).

def camera_down(c: Ctx, i: int) -> bool:
    r1, r2, r3 = c.room(), c.room(), c.room()
    if r3 is None:
        return False
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
        sid = c.session(cid, site, start, start + 7200, st, count=lambda _t, cap=cap: cap)
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
    org = c._org_of_exam[exam_id]
    for j, (p, tid, eid, fire, note) in enumerate(people):
        no = c.cert(p, rids[j], occ, 5, org)
        clm = c.claim(eid, tid, no, at(d, 22, 55) + 60 * j)
        c.label("INSUFFICIENT_HOURS", clm, fire, note)
    return True


def duplicate_subsidy(c: Ctx, i: int) -> bool:
    r1, r2, r3 = c.room(), c.room(), c.room()
    if r3 is None:
        return False
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


def unregistered_site(c: Ctx, i: int) -> bool:
    r1, r2 = c.room(), c.room()
    if r2 is None:
        return False
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


def certificate_without_pass(c: Ctx, i: int) -> bool:
    d, w = c.d, c.w
    occ = w.occupations[int(hi(c.seed, "cwp-occ", 0, len(w.occupations), d, i))].code
    ps = [c.person() for _ in range(7)]
    exam_id, rids = c.exam(occ, 5, at(d, 9), at(d, 11), [
        (ps[0], "60", "60", "合格"), (ps[1], "52", "48", "不合格"), (ps[2], "88", "59.5", "合格"),
        (ps[3], "75", "81", "合格"), (ps[4], "60.0", "72", "合格"), (ps[5], "66", "90", "合格"),
        (ps[6], "77", "70", "合格")])
    org = c._org_of_exam[exam_id]
    ex4, r4 = c.exam(occ, 4, at(d, 13), at(d, 15), [(p, "80", "80", "合格") for p in [c.person()]])
    del ex4
    cases = ((ps[0], rids[0], 5, False, "both scores exactly 60, 合格"),
             (ps[4], rids[4], 5, False, "theory '60.0', 合格"),
             (ps[1], rids[1], 5, True, "result is 不合格"),
             (ps[2], rids[2], 5, True, "合格 with a score of 59.5"),
             (ps[3], rids[5], 5, True, "issued on another person's result"),
             (ps[5], "", 5, True, "no result id"),
             (ps[6], f"R{c.ymd}9999999000", 5, True, "result id unknown"),
             (ps[6], rids[6], 4, True, "certificate level 4 on a level-5 exam"))
    for person, rid, lv, fire, note in cases:
        no = c.cert(person, rid, occ, lv, org)
        c.label("CERTIFICATE_WITHOUT_PASS", no, fire, note)
    c.label("SCORE_FLAG_MISMATCH", rids[2], True, "合格 with a score of 59.5")
    c.label("SCORE_FLAG_MISMATCH", rids[0], False, "合格 with both scores exactly 60")
    del r4
    return True


# --- ABNORMAL_PASS_RATE: exclusive (occupation, level) pairs and an exact ledger -------------------

PAIRS = [(o, lv) for o in cat.EXAM_ONLY_OCCUPATIONS for lv in cat.LEVELS]
_LEDGER: dict[tuple, list[tuple[int, int, int]]] = {}


def _abnormal_plan(seed: int, rate: float, scale: float, day: int, role: int) -> tuple[str, list[tuple[int, int, int]], dict] | None:
    """(variant, exams [(start ls, n, passes)] with the target last, info) of the instance of
    ``role`` (0 positive, 1 negative) on ``day``; None when there is none. Pair = PAIRS[(2i+role) % 40]
    with i = day - WS, so a pair recurs every 20 days; the baseline b of each target is made exact
    by sizing the instance's own baseline exams against every earlier exam of the pair."""
    key = (seed, rate, scale, day, role)
    if key in _LEDGER:
        return _LEDGER[key]  # type: ignore[return-value]
    if day < WS or instances(seed, "ABNORMAL_PASS_RATE", day, rate, scale) == 0:
        _LEDGER[key] = None  # type: ignore[assignment]
        return None
    target_start = at(day, 14)
    prior: list[tuple[int, int, int]] = []
    back = day - 20
    while back >= WS and back > day - 400:
        plan = _abnormal_plan(seed, rate, scale, back, role)
        if plan:
            prior.extend(plan[1])
        back -= 20
    T = sum(n for s, n, _ in prior if target_start - 365 * DAY <= s < target_start)
    P = sum(q for s, _, q in prior if target_start - 365 * DAY <= s < target_start)
    v = hu(seed, "apr-variant", day, role)
    if role == 0:
        variant, (num, den), n, passes = (("boundary", (3, 4), 20, 20) if v < 0.5 else ("clear", (3, 5), 20, 19))
    else:
        options = [("b_above", (19, 25), 20, 20), ("n19", (3, 5), 19, 19), ("p_below", (1, 2), 20, 18)]
        variant, (num, den), n, passes = options[int(v * 3)]
        if T == 0 and v < 0.2:
            variant, (num, den), n, passes = "pool99", (1, 2), 20, 20
    total_target = 99 if variant == "pool99" else None
    m = max(1, (total_target or 100) - T)
    while True:
        tot = T + m
        if tot % den == 0 or total_target:
            q = (tot * num) // den - P if not total_target else round(0.5 * tot) - P
            if 0 <= q <= 0.9 * m and (total_target is None or tot == total_target):
                break
        m += 1
        if m > 2000:
            raise RuntimeError("ABNORMAL_PASS_RATE ledger could not be balanced")
    # own baseline: exams of at most 40 results on the two previous days, pass rates <= 0.9
    k = max(1, -(-m // 40))
    exams = []
    for j in range(k):
        nj = m // k + (1 if j < m % k else 0)
        qj = q // k + (1 if j < q % k else 0)
        exams.append((at(day - 1 - j % 2, 9) + 3600 * (j // 2), nj, qj))
    exams.append((target_start, n, passes))
    info = dict(pair=PAIRS[(2 * (day - WS) + role) % len(PAIRS)], b=(P + q) / (T + m), pool=T + m, p=passes / n, n=n)
    _LEDGER[key] = (variant, exams, info)  # type: ignore[assignment]
    return _LEDGER[key]  # type: ignore[return-value]


def _scores(n: int, passes: int, salt: int) -> list[tuple[str, str, str]]:
    """n distinct (theory, practical, flag) triples with ``passes`` passes."""
    out = []
    for j in range(n):
        if j < passes:
            out.append((str(60 + (j * 7 + salt) % 41), str(60 + (j * 3 + salt // 3) % 41), "合格"))
        else:
            out.append((str(30 + (j * 5 + salt) % 29), str(61 + j % 39), "不合格"))
    seen: set[tuple[float, float]] = set()
    res = []
    for th, pr, f in out:
        t = unique_theory(float(th), float(pr), seen)
        seen.add((t, float(pr)))
        res.append((f"{t:g}", pr, f))
    return res


def abnormal_pass_rate(c: Ctx, i: int) -> bool:
    if i > 0:
        return True  # one positive and one negative a day at most (the ledger's pairs)
    for role in (0, 1):
        plan = _abnormal_plan(c.seed, c.rate, c.w.scale, c.d, role)
        if plan is None:
            continue
        variant, exams, info = plan
        occ, lv = info["pair"]
        org = c.w.org_for(occ, c.d, c.d * 10 + role, "apr-org")
        last = None
        for j, (start, n, q) in enumerate(exams):
            people = [c.person() for _ in range(n)]
            rows = [(p, th, pr, f) for p, (th, pr, f) in zip(people, _scores(n, q, j * 11 + role), strict=True)]
            last, _ = c.exam(occ, lv, start, start + 7200, rows, org=org)
        fire = role == 0
        c.label("ABNORMAL_PASS_RATE", last, fire,
                f"{variant}: n={info['n']} p={info['p']:.4g} baseline b={info['b']:.4g} over {info['pool']} results")
    return True


def identical_scores(c: Ctx, i: int) -> bool:
    d, w = c.d, c.w
    occ = w.occupations[int(hi(c.seed, "ids-occ", 0, len(w.occupations), d, i))].code
    for n, same, fmt, fire, note in ((10, 3, True, True, "3 of 10 share (85, 90), one written 85.0/90.0: exactly 30%"),
                                     (10, 4, False, True, "4 of 10 share a pair"),
                                     (10, 2, False, False, "2 of 10 share a pair (20%)"),
                                     (9, 3, False, False, "3 of 9 share a pair, but n < 10")):
        rows = []
        for j in range(n):
            p = c.person()
            if j < same:
                th, pr = ("85.0", "90.0") if fmt and j == 0 else ("85", "90")
            else:
                th, pr = str(61 + j * 3), str(70 + j)
            rows.append((p, th, pr, "合格"))
        exam_id, _ = c.exam(occ, 5, at(d, 9) + 3 * 3600 * (n - 9) + 600 * same, at(d, 11) + 3 * 3600 * (n - 9) + 600 * same,
                            rows)
        c.label("IDENTICAL_SCORES", exam_id, fire, note)
    return True


def exam_during_training(c: Ctx, i: int) -> bool:
    r = c.room()
    if r is None:
        return False
    d = c.d
    occ_train = c.occ_of_room(r, i)
    occ_exam = c.occ_of_room(r, i + 1)
    # (a) in class [09:00, 12:00) and in an exam [11:00, 12:30): fires
    p = c.person()
    c.trained(r, p, at(d, 9), 180, occ_train, 5, finished=False, end_day=d + 20)
    _, rids = c.exam(occ_exam, 4, at(d, 11), at(d, 12, 30), [(p, "80", "75", "合格"), (c.person(), "70", "66", "合格")])
    c.label("EXAM_DURING_TRAINING", rids[0], True, "exam overlaps the session the candidate checked in to")
    c.label("EXAM_DURING_TRAINING", rids[1], False, "other candidate of the same exam, not in training")
    # (b) the same, checked in under the person's second trainee_id
    q = c.person()
    c.trainee(q)
    t2 = c.trainee(q, at(d, 6, 50))
    c.trained(r, q, at(d, 13), 120, occ_train, 5, tid=t2, finished=False, end_day=d + 20)
    _, rids = c.exam(occ_exam, 4, at(d, 14), at(d, 15), [(q, "79", "74", "合格")])
    c.label("EXAM_DURING_TRAINING", rids[0], True, "same person (ID number) checked in under a second trainee_id")
    # (c) exam starting exactly when the session ends: windows touch, must not fire
    s = c.person()
    c.trained(r, s, at(d, 16), 120, occ_train, 5, finished=False, end_day=d + 20)
    _, rids = c.exam(occ_exam, 4, at(d, 18), at(d, 19), [(s, "81", "77", "合格")])
    c.label("EXAM_DURING_TRAINING", rids[0], False, "exam starts exactly at the session's ends_at")
    return True


def assessor_double_booked(c: Ctx, i: int) -> bool:
    d, w = c.d, c.w
    occ = w.occupations[int(hi(c.seed, "adb-occ", 0, len(w.occupations), d, i))].code
    x, y = c.assessor(), c.assessor()
    e1, _ = c.exam(occ, 5, at(d, 9), at(d, 11), [(c.person(), "70", "70", "合格")], [x, c.assessor()])
    e2, _ = c.exam(occ, 5, at(d, 10, 30), at(d, 12), [(c.person(), "71", "72", "合格")], [c.assessor(), x])
    c.label("ASSESSOR_DOUBLE_BOOKED", f"{x}|{min(e1, e2)}|{max(e1, e2)}", True, "windows overlap by 30 minutes")
    e3, _ = c.exam(occ, 5, at(d, 13), at(d, 15), [(c.person(), "73", "74", "合格")], [y, c.assessor()])
    e4, _ = c.exam(occ, 5, at(d, 15), at(d, 16), [(c.person(), "75", "76", "合格")], [y, c.assessor()])
    c.label("ASSESSOR_DOUBLE_BOOKED", f"{y}|{min(e3, e4)}|{max(e3, e4)}", False, "windows touch (end = start)")
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


def score_flag_mismatch(c: Ctx, i: int) -> bool:
    d, w = c.d, c.w
    occ = w.occupations[int(hi(c.seed, "sfm-occ", 0, len(w.occupations), d, i))].code
    cases = (("", "80", "合格", True, "theory score missing"),
             ("70", "100.5", "合格", True, "practical score 100.5 (outside 0..100)"),
             ("59.9", "90", "合格", True, "合格 with 59.9"),
             ("60", "75", "不合格", True, "不合格 with both scores >= 60"),
             ("60", "60", "合格", False, "合格 with both exactly 60"),
             ("59.9", "100", "不合格", False, "不合格 with 59.9"),
             ("0", "100", "不合格", False, "scores 0 and 100 are in range"))
    people = [c.person() for _ in cases]
    exam_id, rids = c.exam(occ, 5, at(d, 9), at(d, 11), [(p, th, pr, f) for p, (th, pr, f, _, _) in zip(people, cases, strict=True)])
    for rid, (_, _, _, fire, note) in zip(rids, cases, strict=True):
        c.label("SCORE_FLAG_MISMATCH", rid, fire, note)
    # delivered wrong (合格 with 55) and corrected the next day: the latest delivery wins
    p = c.person()
    exam2, r2 = c.exam(occ, 4, at(d, 13), at(d, 14), [(p, "55", "80", "合格")])
    c.csv("exam_results", dict(result_id=r2[0], exam_id=exam2, id_number=p.id_number, name=p.name, theory_score="65",
                               practical_score="80", passed="合格", recorded_at=_lt(at(d + 1, 10))), d + 1)
    c.label("SCORE_FLAG_MISMATCH", r2[0], False, "a corrected delivery the next day fixes the score", ready=d + 1)
    return True


SCENARIOS: dict[str, Callable[[Ctx, int], bool]] = {
    "CAMERA_DOWN": camera_down, "HEADCOUNT_SHORTFALL": headcount_shortfall,
    "CONCURRENT_CHECKIN": concurrent_checkin, "CHECKIN_BURST": checkin_burst, "WEAK_IDENTITY": weak_identity,
    "FACE_NOT_SEEN": face_not_seen, "INSUFFICIENT_HOURS": insufficient_hours,
    "DUPLICATE_SUBSIDY": duplicate_subsidy, "CERTIFICATE_MISMATCH": certificate_mismatch,
    "EARLY_CLAIM": early_claim, "OUT_OF_SCOPE_CLASS": out_of_scope, "UNREGISTERED_SITE": unregistered_site,
    "CERTIFICATE_WITHOUT_PASS": certificate_without_pass, "ABNORMAL_PASS_RATE": abnormal_pass_rate,
    "IDENTICAL_SCORES": identical_scores, "EXAM_DURING_TRAINING": exam_during_training,
    "ASSESSOR_DOUBLE_BOOKED": assessor_double_booked, "INVALID_ID_NUMBER": invalid_id_number,
    "AGE_OUT_OF_RANGE": age_out_of_range, "ATTENDANCE_OUTSIDE_WINDOW": attendance_outside_window,
    "SESSION_ODD_HOURS": session_odd_hours, "SCORE_FLAG_MISMATCH": score_flag_mismatch,
}
assert set(SCENARIOS) == set(RULES)


def scenarios_of_day(world: World, day: int, rate: float) -> Out:
    """Everything the labelled scenarios originating on ``day`` deliver (on day..day+MAX_LAG)."""
    c = Ctx(world, day, rate)
    c._present = {}
    c._org_of_exam = {}
    c._fresh_streams = []
    c._sess_n = {}
    # Round robin over the rules, starting from a rule that rotates with the day: when scenario rooms
    # are scarce (small scales), every rule gets its first instance before any rule gets a second,
    # and no rule is always the one left without a room.
    rules = list(RULES)
    start = day % len(rules)
    rules = rules[start:] + rules[:start]
    counts = {rule: instances(world.seed, rule, day, rate, world.scale) for rule in rules}
    for i in range(max(counts.values(), default=0)):
        for rule in rules:
            if i < counts[rule] and not SCENARIOS[rule](c, i):
                c.out.skipped += 1
    # fresh sites' cameras have no shard of their own: their events go to a file of their own
    for site_id, st in c._fresh_streams:
        st.file = (f"vms-{site_id.lower()}.jsonl.gz", day)
        c.out.streams.append((-1, st))
    return c.out
