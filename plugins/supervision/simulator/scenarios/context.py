"""What every scenario is written with: ``Ctx``, the context of one origin day, which hands out
scenario rooms, people and ids and records the training rows, video streams, assessment CSV rows
and labels the day's scenarios deliver (``Out``)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from supervision.simulator import catalogue as cat
from supervision.simulator.background import HB_FIRST, HB_LAST
from supervision.simulator.util import (
    DAY,
    HMS,
    P_SCENARIO,
    REGIONS,
    at,
    day_rng,
    ddate,
    dstr,
    hi,
    hu,
    make_id_number,
    person_id,
    person_name,
    person_phone,
    ts_db,
)
from supervision.simulator.world import WS, Site, World, credit_code


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
        for fcam, ts, tid, score in self.faces:
            c = fcam or next((x for x in self.cams if not self.down(x, ts)), self.cams[0])
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
        self.present: dict[str, set[str]] = {}        # session id -> trainees checked in
        self.sess_n: dict[str, int] = {}               # class id -> sessions so far
        self.org_of_exam: dict = {}                    # exam id -> its evaluation organisation
        self.fresh_streams: list[tuple[str, Stream]] = []   # (site id, stream) of sites made today

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
    def site_row(self, s: int) -> Site:
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
        n = self.sess_n[cid] = self.sess_n.get(cid, 0) + 1
        sid = f"SES{cid[3:]}{n:02d}"
        created = at(self.d, 6, 5)
        self.add("sessions", (sid, cid, site_id, ts_db(start), ts_db(end), delivery, "scheduled", ts_db(created)))
        if status != "scheduled":
            upd = max(end, start) + 900 if status == "held" else at(self.d, 6, 10)
            self.add("sessions", (sid, cid, site_id, ts_db(start), ts_db(end), delivery, status, ts_db(upd)))
        if stream is not None and delivery == "onsite" and status == "held":
            stream.need(start, end)
            who = self.present.setdefault(sid, set())

            def n_present(_t: int, who: set[str] = who) -> int:
                return len(who)

            stream.sessions.append((start, end, count or n_present))
        return sid

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
            self.present.setdefault(sid, set()).add(tid)
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
                                       starts_at=local_time(start), ends_at=local_time(end),
                                       assessor_ids=";".join(assessors or [self.assessor(), self.assessor()]),
                                       registered=str(len(cands))), day)
        rids = []
        for i, (person, th, pr, flag) in enumerate(cands):
            rid = f"R{exam_id[2:]}{i:03d}"
            rids.append(rid)
            self.csv("exam_results", dict(result_id=rid, exam_id=exam_id, id_number=person.id_number, name=person.name,
                                          theory_score=th, practical_score=pr, passed=flag,
                                          recorded_at=local_time(max(end, start) + 1800 + i)), result_day or day)
        self.org_of_exam[exam_id] = org
        return exam_id, rids

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
        org = self.org_of_exam[exam_id]
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
        self.fresh_streams.append((site_id, st))
        return site_id, st

    def new_institution(self, lic_from: int, lic_to: int, scopes: list[tuple[str, int, int]]) -> str:
        """An institution registered on D (ids INS5xxxx: never used by the background)."""
        n = self._next("inst")
        iid = f"INS{50000 + (self.d - WS) * 10 + n:05d}"
        district = list(cat.DISTRICT_WEIGHTS)[(self.d + n) % 16]
        self.add("institutions", (iid, f"上海市新启{(self.d - WS) * 10 + n}号职业技能培训学校",
                                  credit_code(self.seed, 10**6 + self.d * 10 + n, "52", district), "private", district,
                                  dstr(lic_from), dstr(lic_to), ts_db(at(self.d, 6, 2))))
        for occ, a, b in scopes:
            self.add("institution_occupations", (iid, occ, dstr(a), dstr(b), ts_db(at(self.d, 6, 3))))
        return iid


def local_time(ls: int) -> str:
    """A local second as the assessment platform writes it: ``YYYY-MM-DD HH:MM:SS``."""
    d, s = divmod(int(ls), DAY)
    return f"{dstr(d)} {HMS[s]}"

