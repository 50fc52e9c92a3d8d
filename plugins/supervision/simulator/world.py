"""The static world: what exists independently of which days are generated.

Everything here is a function of (seed, scale) only: occupations, institutions with licences and
approved scopes, sites with cameras, evaluation orgs, and the class schedule (weekly cohorts of
classes, each holding a track: one site, one pair of weekdays, one time slot). Days are then read
off this world (``background.py``), so generating 01-01..01-03 and then 01-04..01-06 gives the same
data as 01-01..01-06 in one call.

The platform "went live" on WORLD_START: reference rows and the classes running then were migrated
into it that night (updated_at on WORLD_START), and sessions before it were never recorded; a
migrated class's planned_hours are the hours still to run, so attended-hours rules stay meaningful.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np

from supervision.simulator import catalogue as cat
from supervision.simulator.util import DAY, at, ddate, dnum, hi, hu, person_id

WORLD_START = date(2024, 1, 1)
WS = dnum(WORLD_START)
FIRST_COHORT = WS - 8 * 7            # a Monday: 2023-11-06
CLASS_CLASSES_PER_WEEK = 630         # at scale 1.0: ~1,500 sessions a working day, ~800k completions
MAX_PER_COHORT = 2000                # person numbering needs class index < 2000 per cohort
PATTERNS = np.array([[0, 3], [1, 4], [2, 5]])   # Mon/Thu, Tue/Fri, Wed/Sat
SLOT_STARTS = ((8 * 60 + 30, 9 * 60), (13 * 60 + 30, 14 * 60), (18 * 60 + 30, 19 * 60))
SLOT_LENGTHS = ((150, 180), (150, 180), (120, 150))  # minutes, [lo, hi]
SHARDS_MAX = 16


def add_years(day: int, years: int) -> int:
    """Day number ``years`` later on the same calendar day (Feb 29 -> Feb 28)."""
    d = ddate(day)
    try:
        return dnum(d.replace(year=d.year + years))
    except ValueError:
        return dnum(d.replace(year=d.year + years, day=28))


def credit_code(seed: int, key: int, prefix: str, region: str) -> str:
    """An 18-character unified social credit code with a correct GB 32100-2015 check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    h = hi(seed, "credit", 0, 1 << 62, key)
    org = "".join(alphabet[(int(h) >> (5 * i)) % 31] for i in range(9))
    body = prefix + region + org
    s = sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True))
    return body + alphabet[(31 - s % 31) % 31]


@dataclass
class Institution:
    idx: int
    institution_id: str
    name: str
    credit_code: str
    kind: str
    district: str
    lic_from: int          # day numbers
    lic_to: int            # as first delivered
    renew_day: int | None = None
    renewed_to: int | None = None


@dataclass
class Scope:
    inst: int
    occ: int
    approved_from: int
    approved_to: int
    delivered: int         # day the row first appears


@dataclass
class Site:
    idx: int
    site_id: str
    inst: int
    district: str
    address: str
    registered: bool
    role: str              # 'class' (background classes), 'room' (scenario room), 'unregistered'
    shard: int
    cameras: list[str] = field(default_factory=list)


@dataclass
class Org:
    idx: int
    org_id: str
    name: str
    kind: str
    district: str
    occupations: list[str]
    registered_on: int
    valid_to: int


class World:
    """Reference data and class schedule for (seed, scale). Build with ``World.get``."""

    def __init__(self, seed: int, scale: float):
        if scale <= 0:
            raise ValueError("scale must be > 0")
        self.seed, self.scale = seed, scale
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed & 0xFFFFFFFF, 77,
                                                                                int(scale * 1e6)])))
        self.occupations = list(cat.OCCUPATIONS)
        self.occ_index = {o.code: i for i, o in enumerate(self.occupations)}
        self._build_institutions()
        self._build_sites()
        self._build_orgs()
        self.n_shards = max(1, min(SHARDS_MAX, round(len(self.cameras) / 300)))
        for s in self.sites:
            s.shard = int(hi(seed, "shard", 0, self.n_shards, s.idx))
        self.classes = ClassTable(self)

    @staticmethod
    @lru_cache(maxsize=4)
    def get(seed: int, scale: float) -> World:
        return World(seed, scale)

    # --- institutions and scopes ---------------------------------------------------------------
    def _build_institutions(self) -> None:
        rng, seed = self.rng, self.seed
        n = max(6, round(1800 * self.scale))
        districts = list(cat.DISTRICT_WEIGHTS)
        dw = np.array(list(cat.DISTRICT_WEIGHTS.values()))
        dist = rng.choice(len(districts), size=n, p=dw / dw.sum())
        kinds = rng.choice(len(cat.INSTITUTION_KINDS), size=n, p=cat.INSTITUTION_KIND_WEIGHTS)
        lic_from = rng.integers(dnum(date(2015, 1, 1)), dnum(date(2023, 6, 30)), size=n)
        years = rng.choice([3, 5], size=n)
        occ_w = np.array([o.weight for o in self.occupations])
        self.institutions: list[Institution] = []
        self.scopes: list[Scope] = []
        self.inst_scopes: list[list[Scope]] = []
        for i in range(n):
            district = districts[dist[i]]
            kind = cat.INSTITUTION_KINDS[kinds[i]]
            prefix = {"private": "52", "public": "12", "college": "12"}.get(kind, "91")
            lf = int(lic_from[i])
            lt = add_years(lf, int(years[i])) - 1
            while lt < WS + 60:                    # renewed before go-live: migrated as renewed
                lt = add_years(lt, 5)
            inst = Institution(i, f"INS{i + 1:05d}", self._inst_name(i), credit_code(seed, i, prefix, district),
                               kind, district, lf, lt)
            if lt < dnum(date(2026, 12, 31)):      # renewed 60 days before expiry, valid_to moves on
                inst.renew_day = lt - 60
                inst.renewed_to = add_years(lt, 5)
            self.institutions.append(inst)
            k = int(rng.integers(3, 8))
            occs = rng.choice(len(self.occupations), size=k, replace=False, p=occ_w / occ_w.sum())
            scopes = [Scope(i, int(o), lf + int(rng.integers(0, 200)), dnum(date(2026, 12, 31)), WS) for o in occs]
            if rng.random() < 0.2:                 # one scope extension during 2024
                rest = [j for j in range(len(self.occupations)) if j not in set(occs.tolist())]
                o = int(rng.choice(rest))
                af = int(rng.integers(dnum(date(2024, 2, 1)), dnum(date(2024, 11, 30))))
                scopes.append(Scope(i, o, af, dnum(date(2026, 12, 31)), af - 10))
            self.scopes.extend(scopes)
            self.inst_scopes.append(scopes)

    def _inst_name(self, i: int) -> str:
        h = int(hi(self.seed, "iname", 0, 1 << 40, i))
        prefix = cat.NAME_PREFIXES[h % len(cat.NAME_PREFIXES)] + cat.NAME_PREFIXES[(h >> 6) % len(cat.NAME_PREFIXES)]
        return f"上海市{prefix}{cat.INSTITUTION_WORDS[(h >> 12) % len(cat.INSTITUTION_WORDS)]}"

    def address(self, key: int, district: str) -> str:
        h = int(hi(self.seed, "addr", 0, 1 << 40, key))
        road = cat.ROADS[h % len(cat.ROADS)]
        from supervision.districts import districts

        return f"上海市{districts()[district].name_zh}{road}{(h >> 8) % 2000 + 1}号"

    # --- sites and cameras ---------------------------------------------------------------------
    def _build_sites(self) -> None:
        rng = self.rng
        self.sites: list[Site] = []
        self.cameras: list[tuple[str, int, int]] = []   # (camera_id, site idx, installed_on day)
        self.inst_class_sites: list[list[int]] = []
        n_inst = len(self.institutions)
        n_rooms = max(24, round(0.06 * n_inst))
        room_list = sorted({(j * n_inst) // n_rooms for j in range(n_rooms)})
        room_insts = set(room_list)
        extra_rooms = n_rooms - len(room_list)   # more rooms than institutions at tiny scales
        self.rooms: list[int] = []

        def add_site(inst: Institution, role: str, registered: bool, n_cams: int) -> Site:
            seqno = len(inst_sites) + 1
            site = Site(len(self.sites), f"SITE{inst.idx + 1:05d}{seqno:02d}", inst.idx, inst.district,
                        self.address(len(self.sites), inst.district), registered, role, 0)
            for c in range(n_cams):
                cam = f"CAM{inst.idx + 1:05d}{seqno:02d}{c + 1}"
                site.cameras.append(cam)
                self.cameras.append((cam, site.idx, int(rng.integers(dnum(date(2019, 1, 1)), dnum(date(2023, 10, 1))))))
            self.sites.append(site)
            inst_sites.append(site.idx)
            return site

        for inst in self.institutions:
            inst_sites: list[int] = []
            n_class = 1 + int(rng.random() < 0.35) + int(rng.random() < 0.10)
            for _ in range(n_class):
                add_site(inst, "class", True, 1 + int(rng.random() < 0.6) + int(rng.random() < 0.2))
            self.inst_class_sites.append(list(inst_sites))
            if inst.idx in room_insts:
                reps = 1 + (extra_rooms // len(room_list)) + (1 if room_list.index(inst.idx) < extra_rooms % len(room_list) else 0)
                for _ in range(reps):
                    self.rooms.append(add_site(inst, "room", True, 2).idx)
            if rng.random() < 0.08:   # known to the platform, never approved: hosts nothing
                add_site(inst, "unregistered", False, int(rng.random() < 0.5))
        self.camera_site = {c: s for c, s, _ in self.cameras}

    # --- evaluation orgs -----------------------------------------------------------------------
    def _build_orgs(self) -> None:
        rng = self.rng
        n_base = max(4, round(300 * self.scale))
        n_new = max(1, round(30 * self.scale))
        districts = list(cat.DISTRICT_WEIGHTS)
        dw = np.array(list(cat.DISTRICT_WEIGHTS.values()))
        codes = [o.code for o in self.occupations]
        self.orgs: list[Org] = []
        specs: list[tuple[str, int]] = []
        for _ in range(n_base):
            kind = cat.ORG_KINDS[int(rng.choice(3, p=cat.ORG_KIND_WEIGHTS))]
            specs.append((kind, int(rng.integers(dnum(date(2019, 1, 1)), dnum(date(2023, 12, 1))))))
        for kind in ("用人單位", "院校"):
            for _ in range(n_new):   # the 2024 targets count new employer and college orgs
                specs.append((kind, int(rng.integers(WS + 10, dnum(date(2024, 12, 20))))))
        for i, (kind, reg) in enumerate(specs):
            district = districts[int(rng.choice(16, p=dw / dw.sum()))]
            k = int(rng.integers(3, 11))
            occs = sorted(rng.choice(len(codes), size=min(k, len(codes)), replace=False).tolist())
            h = int(hi(self.seed, "oname", 0, 1 << 40, i))
            name = f"上海{cat.NAME_PREFIXES[h % len(cat.NAME_PREFIXES)]}{cat.NAME_PREFIXES[(h >> 6) % len(cat.NAME_PREFIXES)]}{cat.ORG_WORDS[kind]}"
            valid_to = add_years(reg, 5)
            while valid_to < dnum(date(2026, 12, 31)):   # renewed: every org stays usable through 2026
                valid_to = add_years(valid_to, 5)
            self.orgs.append(Org(i, f"EO{i + 1:04d}", name, kind, district, [codes[o] for o in occs], reg, valid_to))
        base = self.orgs[:n_base]
        for j, code in enumerate(codes):     # every trained occupation: at least two base orgs
            for r in range(2):
                org = base[(j * 2 + r) % n_base]
                if code not in org.occupations:
                    org.occupations.append(code)
        for j, code in enumerate(cat.EXAM_ONLY_OCCUPATIONS):
            for r in range(2):
                org = base[(j * 3 + r + 1) % n_base]
                if code not in org.occupations:
                    org.occupations.append(code)
        for org in self.orgs:
            org.occupations.sort()
        self.orgs_for: dict[str, list[int]] = {}
        for org in self.orgs:
            for code in org.occupations:
                self.orgs_for.setdefault(code, []).append(org.idx)

    def org_for(self, code: str, day: int, key: int, purpose: str = "exam-org") -> Org:
        """An org that certifies ``code`` and is registered and valid on ``day`` (deterministic)."""
        cands = [o for o in self.orgs_for.get(code, []) if self.orgs[o].registered_on <= day - 3
                 and self.orgs[o].valid_to >= day]
        if not cands:
            raise LookupError(f"no evaluation org for {code} on {ddate(day)}")
        return self.orgs[cands[int(hi(self.seed, purpose, 0, len(cands), key))]]

    def scope_occs(self, inst: int, day: int) -> list[int]:
        """Occupations the institution may train on ``day`` (a scope row covers it)."""
        return sorted({s.occ for s in self.inst_scopes[inst] if s.approved_from <= day <= s.approved_to})

    def lic_to_final(self, inst: Institution) -> int:
        return inst.renewed_to if inst.renewed_to is not None else inst.lic_to


# --- the class schedule -----------------------------------------------------------------------

class ClassTable:
    """Weekly cohorts of classes with their tracks, as numpy arrays (extended on demand).

    Tracks (site, weekday pair, slot) are handed out greedily cohort by cohort, so no two classes
    ever share a room at the same time: background data can not create CONCURRENT_CHECKIN,
    HEADCOUNT or CAMERA findings by accident."""

    COLS = ("cohort", "j", "inst", "site", "occ", "level", "programme", "subsidised", "size", "pattern",
            "start_min", "length", "n_total", "cancel_idx", "cancelled", "created_ls", "cancel_ls",
            "first_day", "start_day", "end_day", "first_visible")

    def __init__(self, world: World):
        self.w = world
        self.cohorts_built = 0
        self.free_from: dict[tuple[int, int, int], int] = {}
        self.rows: dict[str, list[int]] = {c: [] for c in self.COLS}
        self.a: dict[str, np.ndarray] = {}
        self.ids: list[str] = []

    def ensure(self, last_day: int) -> None:
        """Build cohorts so that every class starting on or before ``last_day`` exists."""
        need = (last_day - FIRST_COHORT) // 7 + 1
        if need <= self.cohorts_built:
            return
        for c in range(self.cohorts_built, need):
            self._build_cohort(c)
        self.cohorts_built = need
        self.a = {k: np.asarray(v, dtype=np.int64) for k, v in self.rows.items()}
        self.planned_minutes = self._planned_minutes()

    def __len__(self) -> int:
        return len(self.ids)

    def _build_cohort(self, c: int) -> None:
        w, seed = self.w, self.w.seed
        monday = FIRST_COHORT + 7 * c
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed & 0xFFFFFFFF, 91, c,
                                                                            int(w.scale * 1e6)])))
        md = ddate(monday)
        season = 0.4 if date(2024, 2, 5) <= md <= date(2024, 2, 18) else (0.75 if md.month in (7, 8) else 1.0)
        n = min(MAX_PER_COHORT - 1, int(rng.poisson(CLASS_CLASSES_PER_WEEK * w.scale * season)))
        n_inst = len(w.institutions)
        weights = np.array([len(s) for s in w.inst_class_sites], dtype=float)
        insts = rng.choice(n_inst, size=n * 3, p=weights / weights.sum())
        occ_w = np.array([o.weight for o in w.occupations])
        j = 0
        for t in range(n * 3):
            if j >= n:
                break
            inst = int(insts[t])
            tracks = [(s, p, sl) for s in w.inst_class_sites[inst] for p in range(3) for sl in range(3)]
            order = rng.permutation(len(tracks))
            chosen = None
            for o in order:
                s, p, sl = tracks[o]
                start = monday + int(PATTERNS[p][0])
                if self.free_from.get((s, p, sl), -10**9) <= start:
                    chosen = (s, p, sl, start)
                    break
            if chosen is None:
                continue
            s, p, sl, start = chosen
            occs = w.scope_occs(inst, start)
            lic_ok = w.institutions[inst].lic_from <= start <= w.lic_to_final(w.institutions[inst])
            if not occs or not lic_ok:
                continue
            ow = occ_w[occs]
            occ = int(occs[int(rng.choice(len(occs), p=ow / ow.sum()))])
            n_held = int(rng.integers(10, 21))
            cancelled_session = rng.random() < 0.05
            n_total = n_held + int(cancelled_session)
            last = n_total - 1
            end = monday + 7 * (last // 2) + int(PATTERNS[p][last % 2])
            self.free_from[(s, p, sl)] = end + 1
            programme = int(rng.choice(3, p=cat.PROGRAMME_WEIGHTS))
            subsidised = programme > 0 or rng.random() < 0.75
            level = cat.LEVELS[int(rng.choice(5, p=cat.LEVEL_WEIGHTS))]
            size = int(rng.integers(10, 21)) if programme == 2 else int(rng.integers(25, 47))
            lo, hi_ = SLOT_LENGTHS[sl]
            created_day = start - int(rng.integers(7, 22))
            created_ls = at(created_day, 10) + int(rng.integers(0, 7 * 3600))
            class_cancelled = rng.random() < 0.02
            cancel_ls = at(start - int(rng.integers(1, 6)), 16) + int(rng.integers(0, 3600)) if class_cancelled else -1
            # sessions before go-live were never recorded: a migrated class starts at the first
            # session on or after WORLD_START
            first_visible = 0
            while monday + 7 * (first_visible // 2) + int(PATTERNS[p][first_visible % 2]) < WS and first_visible <= last:
                first_visible += 1
            if first_visible > last:
                continue
            if created_ls < at(WS, 0):
                created_ls = at(WS, 0, 10) + (c * MAX_PER_COHORT + j) % 3000
                if cancel_ls >= 0 and cancel_ls < created_ls:
                    cancel_ls = created_ls + 60
            row = dict(cohort=c, j=j, inst=inst, site=s, occ=occ, level=level, programme=programme,
                       subsidised=int(subsidised), size=size, pattern=p,
                       # lengths are whole multiples of 6 minutes, so planned_hours (numeric(6,1))
                       # is exact and "attended >= 0.8 x planned" never depends on rounding
                       start_min=SLOT_STARTS[sl][int(rng.integers(0, 2))],
                       length=lo + 6 * int(rng.integers(0, (hi_ - lo) // 6 + 1)),
                       n_total=n_total, cancel_idx=int(rng.integers(1, n_total - 1)) if cancelled_session else -1,
                       cancelled=int(class_cancelled), created_ls=created_ls, cancel_ls=cancel_ls,
                       first_day=start, start_day=start, end_day=end, first_visible=first_visible)
            for k, v in row.items():
                self.rows[k].append(int(v))
            self.ids.append(f"CLS{md.strftime('%Y%m%d')}{j:04d}")
            j += 1

    # --- derived per class ---------------------------------------------------------------------
    def serial(self, ci: np.ndarray) -> np.ndarray:
        return self.a["cohort"][ci] * MAX_PER_COHORT + self.a["j"][ci]

    def session_day(self, ci: np.ndarray, si: np.ndarray) -> np.ndarray:
        monday = FIRST_COHORT + 7 * self.a["cohort"][ci]
        return monday + 7 * (si // 2) + PATTERNS[self.a["pattern"][ci], si % 2]

    def _planned_minutes(self) -> np.ndarray:
        held = self.a["n_total"] - self.a["first_visible"] - (self.a["cancel_idx"] >= self.a["first_visible"])
        return held * self.a["length"]

    def sessions(self, ci: np.ndarray) -> dict[str, np.ndarray]:
        """Every recorded session of the given classes (cancelled ones included), as arrays."""
        a, seed = self.a, self.w.seed
        ci = np.asarray(ci, dtype=np.int64)
        counts = a["n_total"][ci]
        cls = np.repeat(ci, counts)
        si = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        keep = si >= a["first_visible"][cls]
        cls, si = cls[keep], si[keep]
        day = self.session_day(cls, si)
        serial = self.serial(cls)
        sk = serial * 64 + si
        start = day * DAY + a["start_min"][cls] * 60
        end = start + a["length"][cls] * 60
        corrected = hu(seed, "correct", sk) < 0.02
        final_end = end + np.where(corrected, hi(seed, "correct-min", 5, 16, sk) * 60, 0)
        cancelled = (si == a["cancel_idx"][cls]) | (a["cancelled"][cls] == 1)
        occ_digital = np.array([o.category == "digital" for o in self.w.occupations])[a["occ"][cls]]
        p_online = np.where(occ_digital & (a["programme"][cls] == 1), 0.3, 0.02)
        online = hu(seed, "online", sk) < p_online
        created = a["created_ls"][cls]
        cancel_at = np.where(a["cancelled"][cls] == 1, a["cancel_ls"][cls],
                             np.maximum(created + 60, at(0, 18) + (day - hi(seed, "cancel-day", 1, 4, sk)) * DAY))
        held_at = end + hi(seed, "held-at", 600, 3000, sk)
        correct_at = (day + hi(seed, "correct-day", 1, 4, sk)) * DAY + 10 * 3600 + hi(seed, "correct-s", 0, 3600, sk)
        return dict(cls=cls, si=si, day=day, sk=sk, start=start, end=end, final_end=final_end,
                    cancelled=cancelled, online=online, created=created, cancel_at=cancel_at,
                    held_at=held_at, corrected=corrected, correct_at=correct_at,
                    site=a["site"][cls])

    def classes_between(self, first_end: int, last_start: int) -> np.ndarray:
        """Indices of classes with end_day >= first_end and start_day <= last_start."""
        a = self.a
        if not len(self.ids):
            return np.zeros(0, dtype=np.int64)
        return np.nonzero((a["end_day"] >= first_end) & (a["start_day"] <= last_start))[0]

    def class_person(self, ci: np.ndarray, k: np.ndarray) -> np.ndarray:
        return self.serial(ci) * 64 + k


def person_of_background(serial_k: int) -> tuple[str, date, str]:
    return person_id(int(serial_k))
