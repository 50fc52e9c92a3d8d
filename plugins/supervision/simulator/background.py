"""Background data: what the city's training, video and assessment systems deliver on a day.

Everything is read off the static world with counter-based hashes, so any day can be produced on
its own. The background is designed to fire none of the 22 rules of RULES.md: every finding the
pipeline makes on simulated data comes from a labelled scenario (``scenarios.py``) or a labelled
fault. The invariants that make this so are noted where they are enforced, e.g.

- one class per room at a time (tracks), one class per trainee: no CONCURRENT_CHECKIN;
- check-ins at one device at least 7 s apart: no six within 30 s (CHECKIN_BURST);
- cameras heartbeat every 5 min from 06:00 to 23:00 and count every minute of a session: coverage;
- everyone present is seen by a camera with score >= 0.80 inside the window (FACE_NOT_SEEN);
- subsidised classes check in by face with score >= 0.78 (WEAK_IDENTITY);
- claims only for completers with attended hours >= 0.85 x planned and their own certificate;
- an exam with 20 or more results never reaches a 95% pass rate (ABNORMAL_PASS_RATE), and no two
  results of an exam share a score pair (IDENTICAL_SCORES).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from supervision.simulator import catalogue as cat
from supervision.simulator.util import (
    DAY,
    at,
    day_rng,
    ddate,
    dstr,
    hi,
    hu,
    person_id,
    person_name,
    person_phone,
    ts_db,
)
from supervision.simulator.world import WS, World

STATUS_CLASS = ("planned", "running", "finished", "cancelled")
PROGRAMMES = cat.PROGRAMMES
METHOD_NAMES = ("face", "card", "manual")
HB_FIRST, HB_LAST = 6 * 3600, 23 * 3600   # camera heartbeats: every 5 min in [06:00, 23:00)


def dec1(x: float) -> str:
    return f"{x:.1f}"


@dataclass
class Plan:
    """Attendance of (session, enrollment) pairs where the trainee turned up."""
    sess: np.ndarray        # index into the sessions dict used to build the plan
    k: np.ndarray           # enrollment number within the class
    t_in: np.ndarray        # first check-in (local seconds)
    t_in2: np.ndarray       # second check-in, or -1
    t_out: np.ndarray       # check-out, or -1
    method: np.ndarray      # 0 face, 1 card, 2 manual
    score_in: np.ndarray
    score_out: np.ndarray
    device: np.ndarray      # device number within the site (onsite) / -1 online
    attended: np.ndarray    # seconds counted by INSUFFICIENT_HOURS


class Background:
    def __init__(self, world: World, fault_rate: float):
        self.w = world
        self.seed = world.seed
        self.ct = world.classes
        self.fault_rate = fault_rate

    # ================================================================================ enrollments
    def enrollments(self, ci: np.ndarray) -> dict[str, np.ndarray]:
        a, seed, ct = self.ct.a, self.seed, self.ct
        ci = np.asarray(ci, dtype=np.int64)
        ci = ci[a["cancelled"][ci] == 0]        # cancelled classes enrolled nobody
        sizes = a["size"][ci]
        cls = np.repeat(ci, sizes)
        k = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        ek = ct.serial(cls) * 64 + k            # = the person number p
        start = a["start_day"][cls]
        created = a["created_ls"][cls]
        migrated = created < at(WS, 1)
        orig_created = np.where(migrated, (start - 14) * DAY + 36000, created)
        span = np.maximum(start * DAY - 7200 - orig_created, 3600)
        enrolled = orig_created + (hu(seed, "enrolled", ek) * span).astype(np.int64)
        u = hu(seed, "profile", ek)
        dropper = u < 0.06
        weak = (u >= 0.06) & (u < 0.10)
        n_total = a["n_total"][cls]
        drop_si = np.where(dropper, 1 + (hu(seed, "drop-si", ek) * (n_total - 1)).astype(np.int64), 10**6)
        drop_day = np.where(dropper, ct.session_day(cls, np.minimum(drop_si, n_total - 1)), -1)
        dup = hu(seed, "dup", ek) < 0.02          # registered twice: a second trainee_id, dropped
        return dict(cls=cls, k=k, ek=ek, enrolled=enrolled, created_upd=np.maximum(enrolled, created + 60),
                    dropper=dropper, weak=weak, drop_si=drop_si, drop_day=drop_day, dup=dup)

    # ================================================================================ attendance
    def plan(self, S: dict[str, np.ndarray], sel: np.ndarray | None = None) -> Plan:
        """Attendance of the held sessions ``S[...][sel]`` (a pure function of the sessions)."""
        a, seed, ct = self.ct.a, self.seed, self.ct
        idx = np.nonzero(~S["cancelled"])[0] if sel is None else sel[~S["cancelled"][sel]]
        cls = S["cls"][idx]
        sizes = a["size"][cls]
        sess = np.repeat(idx, sizes)
        k = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        c = S["cls"][sess]
        si = S["si"][sess]
        ek = ct.serial(c) * 64 + k
        pk = S["sk"][sess] * 64 + k
        u = hu(seed, "profile", ek)
        dropper = u < 0.06
        weak = (u >= 0.06) & (u < 0.10)
        n_total = a["n_total"][c]
        drop_si = np.where(dropper, 1 + (hu(seed, "drop-si", ek) * (n_total - 1)).astype(np.int64), 10**6)
        p_abs = np.where(weak, 0.35, 0.03)
        present = (si < drop_si) & (hu(seed, "absent", pk) >= p_abs)
        sess, k, c, pk = sess[present], k[present], c[present], pk[present]
        start, final_end = S["start"][sess], S["final_end"][sess]
        online = S["online"][sess]
        late = hu(seed, "late", pk) < 0.08
        t_in = start + np.where(late, hi(seed, "late-s", 60, 900, pk), -hi(seed, "early-s", 60, 1500, pk))
        dbl = hu(seed, "double", pk) < 0.03
        t_in2 = np.where(dbl, t_in + hi(seed, "double-s", 20, 120, pk), -1)
        early = hu(seed, "leave", pk) < 0.04
        t_out = np.where(early, np.maximum(final_end - hi(seed, "leave-s", 1200, 3600, pk), t_in + 1800),
                         final_end + hi(seed, "out-s", -300, 900, pk))
        t_out = np.where(hu(seed, "no-out", pk) < 0.02, -1, t_out)
        subsidised = a["subsidised"][c] == 1
        um = hu(seed, "method", pk)
        method = np.where(subsidised | online, np.where(subsidised | (um < 0.9), 0, 2),
                          np.where(um < 0.65, 0, np.where(um < 0.95, 1, 2)))
        lo = np.where(subsidised, 0.78, 0.60)
        score_in = np.round(lo + hu(seed, "score-in", pk) * (0.999 - lo), 3)
        score_out = np.round(lo + hu(seed, "score-out", pk) * (0.999 - lo), 3)
        ndev = 1 + a["size"][c] // 25
        device = np.where(online, -1, k % ndev)
        # CHECKIN_BURST guard: per (session, device), consecutive check-ins >= 7 s apart, so no six
        # fall within 30 s. Online check-ins come from each trainee's own phone.
        ev_t = np.concatenate([t_in, t_in2[t_in2 >= 0]])
        ev_row = np.concatenate([np.arange(len(t_in)), np.nonzero(t_in2 >= 0)[0]])
        ev_kind = np.concatenate([np.zeros(len(t_in), np.int64), np.ones(int((t_in2 >= 0).sum()), np.int64)])
        grp = sess[ev_row] * 64 + np.where(device[ev_row] < 0, 32 + k[ev_row] % 32, device[ev_row])
        order = np.lexsort((ev_kind, ev_row, ev_t, grp))
        g, t = grp[order], ev_t[order]
        new_group = np.ones(len(g), bool)
        new_group[1:] = g[1:] != g[:-1]
        gid = np.cumsum(new_group) - 1
        first = np.nonzero(new_group)[0]
        rank = np.arange(len(g)) - first[gid]
        big = np.int64(1) << 42
        v = (t - 7 * rank) + gid * big
        fixed = np.maximum.accumulate(v) - gid * big + 7 * rank
        adj = np.empty_like(ev_t)
        adj[order] = fixed
        t_in = adj[: len(t_in)]
        t_in2 = t_in2.copy()
        t_in2[np.nonzero(t_in2 >= 0)[0]] = adj[len(t_in):]
        # INSUFFICIENT_HOURS counts [first check-in, last check-out) cut to the window
        last_out = t_out
        att = np.where((last_out > t_in) & (last_out >= 0),
                       np.maximum(0, np.minimum(last_out, final_end) - np.maximum(t_in, start)), 0)
        return Plan(sess, k, t_in, t_in2, t_out, method, score_in, score_out, device, att)

    # ================================================================================ completion
    def completion(self, ci: np.ndarray) -> dict[str, np.ndarray]:
        """Per enrollment of classes ``ci``: attended seconds and whether it completed."""
        a = self.ct.a
        E = self.enrollments(ci)
        if not len(E["cls"]):
            return dict(E, attended=np.zeros(0, np.int64), completed=np.zeros(0, bool))
        S = self.ct.sessions(np.unique(E["cls"]))
        P = self.plan(S)
        key = self.ct.serial(S["cls"][P.sess]) * 64 + P.k
        order = np.argsort(key, kind="stable")
        ukey, start_idx = np.unique(key[order], return_index=True)
        sums = np.add.reduceat(P.attended[order], start_idx) if len(order) else np.zeros(0, np.int64)
        pos = np.searchsorted(ukey, E["ek"])
        pos_ok = (pos < len(ukey)) & (ukey[np.minimum(pos, len(ukey) - 1)] == E["ek"])
        attended = np.where(pos_ok, sums[np.minimum(pos, len(sums) - 1)] if len(sums) else 0, 0)
        planned = self.ct.planned_minutes[E["cls"]] * 60
        completed = (~E["dropper"]) & (attended >= 0.8 * planned)
        eligible = completed & (attended >= 0.85 * planned) & (a["subsidised"][E["cls"]] == 1)
        return dict(E, attended=attended, completed=completed, eligible=eligible)

    # ============================================================================ training rows
    def reference_rows(self, day: int) -> dict[str, list[tuple]]:
        """Occupations, institutions, scopes, sites, cameras whose version is dated ``day``."""
        w = self.w
        out: dict[str, list[tuple]] = {}
        if day == WS:
            mig = ts_db(at(WS, 0, 5))
            out["occupations"] = [(o.code, o.name, o.category, o.urgent, mig) for o in w.occupations]
            out["institutions"] = [(i.institution_id, i.name, i.credit_code, i.kind, i.district, dstr(i.lic_from),
                                    dstr(i.lic_to), mig) for i in w.institutions]
            out["sites"] = [(s.site_id, w.institutions[s.inst].institution_id, s.district, s.address, s.registered, mig)
                            for s in w.sites]
            out["cameras"] = [(c, w.sites[s].site_id, dstr(inst), mig) for c, s, inst in w.cameras]
        scopes = [(w.institutions[s.inst].institution_id, w.occupations[s.occ].code, dstr(s.approved_from),
                   dstr(s.approved_to), ts_db(at(s.delivered, 0, 6) if s.delivered == WS else at(s.delivered, 11)))
                  for s in w.scopes if s.delivered == day]
        if scopes:
            out["institution_occupations"] = scopes
        ren: list[tuple] = []
        for i in w.institutions:
            if i.renew_day == day:
                assert i.renewed_to is not None   # set together with renew_day
                ren.append((i.institution_id, i.name, i.credit_code, i.kind, i.district, dstr(i.lic_from),
                            dstr(i.renewed_to), ts_db(at(day, 14, 30))))
        if ren:
            out.setdefault("institutions", []).extend(ren)
        return out

    def class_rows(self, ci: np.ndarray, first: int, last: int) -> dict[str, list[tuple]]:
        """Versions of classes, sessions, trainees and enrollments dated in [first, last]."""
        a, ct, w, seed = self.ct.a, self.ct, self.w, self.seed
        out: dict[str, list[tuple]] = {"classes": [], "sessions": [], "trainees": [], "enrollments": []}
        lo, hi_ = first * DAY, (last + 1) * DAY

        def inrange(ls: int) -> bool:
            return lo <= ls < hi_

        ci = np.asarray(ci, dtype=np.int64)
        ends = self.completion(ci[(a["end_day"][ci] >= first) & (a["end_day"][ci] <= last)])
        end_status = {int(e): (bool(c), int(cl)) for e, c, cl in zip(ends["ek"], ends["completed"], ends["cls"], strict=True)}
        for c in ci.tolist():
            cid = ct.ids[c]
            inst = w.institutions[a["inst"][c]]
            occ = w.occupations[a["occ"][c]]
            planned = dec1(ct.planned_minutes[c] / 60)
            base = (cid, inst.institution_id, occ.code, int(a["level"][c]), PROGRAMMES[a["programme"][c]],
                    bool(a["subsidised"][c]), planned, dstr(a["start_day"][c]), dstr(a["end_day"][c]))
            created = int(a["created_ls"][c])
            start_ls = at(int(a["start_day"][c]), 7)
            versions = []
            if a["cancelled"][c]:
                versions = [(created, "planned"), (int(a["cancel_ls"][c]), "cancelled")]
            else:
                versions = [(created, "running" if created >= start_ls else "planned")]
                if created < start_ls:
                    versions.append((start_ls, "running"))
                versions.append((at(int(a["end_day"][c]), 22, 40), "finished"))
            for ls, status in versions:
                if inrange(ls):
                    out["classes"].append((*base, status, ts_db(ls)))
        # sessions
        S = ct.sessions(ci)
        site_ids = [s.site_id for s in w.sites]
        for j in range(len(S["cls"])):
            c = int(S["cls"][j])
            sid = f"SES{ct.ids[c][3:]}{int(S['si'][j]):02d}"
            site = site_ids[int(S["site"][j])]
            delivery = "online" if S["online"][j] else "onsite"
            st, en, fe = int(S["start"][j]), int(S["end"][j]), int(S["final_end"][j])
            vers = [(int(S["created"][j]), "scheduled", en)]
            if S["cancelled"][j]:
                vers.append((int(S["cancel_at"][j]), "cancelled", en))
            else:
                vers.append((int(S["held_at"][j]), "held", en))
                if S["corrected"][j]:
                    vers.append((int(S["correct_at"][j]), "held", fe))
            for ls, status, e in vers:
                if inrange(ls):
                    out["sessions"].append((sid, ct.ids[c], site, ts_db(st), ts_db(e), delivery, status, ts_db(ls)))
        # trainees and enrollments
        E = self.enrollments(ci)
        for j in range(len(E["cls"])):
            c, k, ek = int(E["cls"][j]), int(E["k"][j]), int(E["ek"][j])
            cid = ct.ids[c]
            suffix = cid[3:]
            upd = int(E["created_upd"][j])
            evers: list[tuple[int, str, str | None]] = [(upd, "active", None)]
            if E["dropper"][j]:
                dd = int(E["drop_day"][j])
                if at(dd, 20) <= upd:
                    evers = [(upd, "dropped", None)]
                else:
                    evers.append((at(dd, 20), "dropped", None))
            else:
                end_day = int(a["end_day"][c])
                if first <= end_day <= last:
                    done, _ = end_status[ek]
                    evers.append((at(end_day, 23), "completed" if done else "dropped", dstr(end_day) if done else None))
            tid = f"TRN{suffix}{k:03d}"
            if inrange(upd):
                out["trainees"].append(self.trainee_row(ek, tid, upd, bool(a["subsidised"][c])))
            for ls, status, comp in evers:
                if inrange(ls):
                    out["enrollments"].append((f"ENR{suffix}{k:03d}", cid, tid, ts_db(int(E["enrolled"][j])), status,
                                               comp, ts_db(ls)))
            if E["dup"][j]:
                t2 = f"TRN{suffix}{k + 500:03d}"
                up2 = upd + 3600
                if inrange(up2):
                    out["trainees"].append(self.trainee_row(ek, t2, up2, True))
                    out["enrollments"].append((f"ENR{suffix}{k + 500:03d}", cid, t2, ts_db(int(E["enrolled"][j]) + 3600),
                                               "active", None, ts_db(up2)))
                drop2 = up2 + 86400
                if inrange(drop2):
                    out["enrollments"].append((f"ENR{suffix}{k + 500:03d}", cid, t2, ts_db(int(E["enrolled"][j]) + 3600),
                                               "dropped", None, ts_db(drop2)))
        del seed
        return out

    def trainee_row(self, p: int, tid: str, upd: int, protect: bool) -> tuple:
        """A trainee row. A few trainees of non-subsidised classes (no claims, so no cross-source
        effects) carry an ID number whose check character is wrong: a known fault of the source and
        a labelled INVALID_ID_NUMBER positive (see ``typo_trainee``)."""
        number, birth, gender = person_id(p)
        if not protect and self.typo_trainee(tid):
            from supervision.simulator.util import wrong_check

            number = wrong_check(number)
        return (tid, number, person_name(self.seed, p), gender, birth.isoformat(), person_phone(self.seed, p), ts_db(upd))

    def typo_trainee(self, tid: str) -> bool:
        if self.fault_rate <= 0:
            return False
        return bool(hu(self.seed, "id-typo", int(tid[3:])) < 0.01 * self.fault_rate / 0.02)

    def attendance_rows(self, day: int, ci: np.ndarray) -> list[list]:
        """Attendance of the sessions held on ``day`` (rows without attendance_id: (sort key, row))."""
        ct, w = self.ct, self.w
        S = ct.sessions(ci)
        sel = np.nonzero((S["day"] == day) & ~S["cancelled"])[0]
        if not len(sel):
            return []
        P = self.plan(S, sel)
        rows: list[list] = []
        site_ids = [s.site_id for s in w.sites]
        cls = S["cls"][P.sess]
        for j in range(len(P.k)):
            s = int(P.sess[j])
            c = int(cls[j])
            sid = f"SES{ct.ids[c][3:]}{int(S['si'][s]):02d}"
            tid = f"TRN{ct.ids[c][3:]}{int(P.k[j]):03d}"
            m = int(P.method[j])
            dev = (f"APP{int(ct.serial(np.array([c]))[0]) * 64 + int(P.k[j]):09d}" if P.device[j] < 0
                   else f"DEV{site_ids[int(S['site'][s])][4:]}{int(P.device[j])}")
            meth = METHOD_NAMES[m]
            sc_in = f"{P.score_in[j]:.3f}" if m == 0 else None
            sc_out = f"{P.score_out[j]:.3f}" if m == 0 else None
            for t, ev, sc in ((int(P.t_in[j]), "check_in", sc_in), (int(P.t_in2[j]), "check_in", sc_in),
                              (int(P.t_out[j]), "check_out", sc_out)):
                if t >= 0:
                    rows.append([sid, tid, ev, meth, dev, t, sc])
        return rows

    # ================================================================================ video
    def video_events(self, day: int, shard: int, ci: np.ndarray) -> dict[str, np.ndarray]:
        """Events of background cameras in ``shard`` on ``day`` (scenario rooms excluded)."""
        w, ct, seed = self.w, self.ct, self.seed
        rng = day_rng(seed, day, f"video-{shard}")
        cams = [ (i, c) for i, (c, s, _) in enumerate(w.cameras)
                 if w.sites[s].shard == shard and w.sites[s].role != "room"]
        cam_idx = np.array([i for i, _ in cams], dtype=np.int64)
        nb = (HB_LAST - HB_FIRST) // 300
        hb_cam = np.repeat(cam_idx, nb)
        hb_t = day * DAY + HB_FIRST + np.tile(np.arange(nb) * 300, len(cam_idx)) + rng.integers(0, 21, size=len(hb_cam))
        parts_cam, parts_t, parts_type, parts_val, parts_tr, parts_score = [hb_cam], [hb_t], [np.zeros(len(hb_cam), np.int8)], \
            [np.zeros(len(hb_cam), np.int64)], [np.full(len(hb_cam), -1, np.int64)], [np.zeros(len(hb_cam))]
        S = ct.sessions(ci)
        site_shard = np.array([s.shard for s in w.sites])
        sel = np.nonzero((S["day"] == day) & ~S["cancelled"] & ~S["online"] & (site_shard[S["site"]] == shard))[0]
        if len(sel):
            P = self.plan(S, sel)
            cam_tab, ncam_of = self._site_cam_table()
            # headcounts: every minute of the scheduled window, from every camera of the room,
            # counting who is present (checked in and not yet checked out)
            L = ((S["end"][sel] - S["start"][sel]) // 60).astype(np.int64)
            ncam = ncam_of[S["site"][sel]]
            reps = L * ncam
            hs = np.repeat(np.arange(len(sel)), reps)
            local = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
            minute = local // np.repeat(ncam, reps)
            cam_k = local % np.repeat(ncam, reps)
            h_t = S["start"][sel][hs] + minute * 60 + rng.integers(0, 41, size=len(hs))
            h_cam = cam_tab[S["site"][sel][hs], cam_k]
            # presence counts via sorted (session, time) keys
            pos_of = {int(s): i for i, s in enumerate(sel)}
            p_s = np.array([pos_of[int(s)] for s in P.sess], dtype=np.int64)
            base = day * DAY - 86400
            big = np.int64(1) << 20
            kin = np.sort(p_s * big + (P.t_in - base))
            kout = np.sort(p_s * big + np.where(P.t_out >= 0, P.t_out - base, big - 1))
            q = hs * big + (h_t - base)
            count = (np.searchsorted(kin, q, "right") - np.searchsorted(kin, hs * big, "left")) - \
                    (np.searchsorted(kout, q, "right") - np.searchsorted(kout, hs * big, "left"))
            parts_cam.append(h_cam)
            parts_t.append(h_t)
            parts_type.append(np.ones(len(h_t), np.int8))
            parts_val.append(count.astype(np.int64))
            parts_tr.append(np.full(len(h_t), -1, np.int64))
            parts_score.append(np.zeros(len(h_t)))
            # faces: everyone present is recognised inside the window with score >= 0.80; some
            # are seen again (any score), and unknown faces (visitors, the teacher) appear too
            st = S["start"][P.sess]
            en = S["end"][P.sess]
            lower = np.maximum(P.t_in, st) + 30
            f1 = lower + rng.integers(0, 571, size=len(lower))
            upper = np.minimum(np.where(P.t_out >= 0, P.t_out, en), en) - 1
            extra = rng.random(len(lower)) < 0.5
            f2 = lower + (rng.random(len(lower)) * np.maximum(upper - lower, 0)).astype(np.int64)
            pk_tr = ct.serial(S["cls"][P.sess]) * 64 + P.k
            fc_site = S["site"][P.sess]
            n_sc = ncam_of[fc_site]
            fc_cam1 = cam_tab[fc_site, rng.integers(0, 1 << 30, len(fc_site)) % n_sc]
            fc_cam2 = cam_tab[fc_site, rng.integers(0, 1 << 30, len(fc_site)) % n_sc]
            parts_cam += [fc_cam1, fc_cam2[extra]]
            parts_t += [f1, f2[extra]]
            parts_type += [np.full(len(f1), 2, np.int8), np.full(int(extra.sum()), 2, np.int8)]
            parts_val += [np.zeros(len(f1), np.int64), np.zeros(int(extra.sum()), np.int64)]
            parts_tr += [pk_tr, pk_tr[extra]]
            parts_score += [np.round(0.80 + rng.random(len(f1)) * 0.19, 3),
                            np.round(0.55 + rng.random(int(extra.sum())) * 0.44, 3)]
            nu = (L // 15)
            us = np.repeat(np.arange(len(sel)), nu)
            u_t = S["start"][sel][us] + (rng.random(len(us)) * (L[us] * 60 - 1)).astype(np.int64)
            u_cam = cam_tab[S["site"][sel][us], 0]
            parts_cam.append(u_cam)
            parts_t.append(u_t)
            parts_type.append(np.full(len(us), 2, np.int8))
            parts_val.append(np.zeros(len(us), np.int64))
            parts_tr.append(np.full(len(us), -1, np.int64))
            parts_score.append(np.round(0.20 + rng.random(len(us)) * 0.50, 3))
        return dict(cam=np.concatenate(parts_cam), t=np.concatenate(parts_t), type=np.concatenate(parts_type),
                    val=np.concatenate(parts_val), tr=np.concatenate(parts_tr), score=np.concatenate(parts_score))

    def _site_cam_table(self) -> tuple[np.ndarray, np.ndarray]:
        """(sites x 3) camera indices (padded with the first camera) and cameras per site."""
        if not hasattr(self, "_cam_tab"):
            idx = {c: i for i, (c, _, _) in enumerate(self.w.cameras)}
            tab = np.zeros((len(self.w.sites), 3), dtype=np.int64)
            n = np.zeros(len(self.w.sites), dtype=np.int64)
            for s in self.w.sites:
                ids = [idx[c] for c in s.cameras] or [-1]
                n[s.idx] = max(1, len(s.cameras))
                tab[s.idx] = (ids * 3)[:3]
            self._cam_tab, self._ncam = tab, n
        return self._cam_tab, self._ncam

    def trainee_id_of(self, pk: int) -> str:
        """trainee_id of background person number ``pk`` (= serial * 64 + k)."""
        serial, k = divmod(int(pk), 64)
        cohort, j = divmod(serial, 2000)
        from supervision.simulator.world import FIRST_COHORT

        return f"TRN{ddate(FIRST_COHORT + 7 * cohort).strftime('%Y%m%d')}{j:04d}{k:03d}"

    # ================================================================================ assessment
    def exams(self, ci_end: np.ndarray, first_day: int, last_day: int) -> list[dict]:
        """Exam sessions dated in [first_day, last_day]: one per finished class (its completers) plus
        exam-only candidates' batches. Each with results, certificates and (for subsidised classes)
        claim timelines. ``ci_end`` must hold every class whose exam can fall in the range."""
        w, ct, seed = self.w, self.ct, self.seed
        a = ct.a
        comp = self.completion(ci_end)
        sits = hu(seed, "sits", comp["ek"]) < 0.96
        by_class: dict[int, list[int]] = {}
        for j in np.nonzero(comp["completed"] & sits)[0].tolist():
            by_class.setdefault(int(comp["cls"][j]), []).append(j)
        cls_list = np.array(sorted(by_class), dtype=np.int64)
        serials = ct.serial(cls_list) if len(cls_list) else np.zeros(0, np.int64)
        days = a["end_day"][cls_list] + hi(seed, "exam-lag", 5, 17, serials) if len(cls_list) else serials
        slots = hi(seed, "exam-slot", 0, 2, serials) if len(cls_list) else serials
        specs: list[dict] = []
        for c, serial, d, slot in zip(cls_list.tolist(), serials.tolist(), days.tolist(), slots.tolist(), strict=True):
            if ddate(d).weekday() == 6:
                d += 1
            if not first_day <= d <= last_day:
                continue
            occ = w.occupations[a["occ"][c]].code
            org = w.org_for(occ, d - 4, serial)
            js = by_class[c]
            specs.append(dict(day=d, org=org.idx, slot=slot, key=serial, occ=occ, level=int(a["level"][c]), cls=c,
                              cands=[(int(comp["ek"][j]), bool(comp["eligible"][j])) for j in js]))
        occ_w = np.array([o.weight for o in w.occupations])
        for d in range(first_day, last_day + 1):
            if ddate(d).weekday() == 6 or d < WS + 7:
                continue
            n = int(day_rng(seed, d, "social-exams").poisson(40 * w.scale))
            for e in range(n):
                key = 10**7 + d * 100 + e
                oi = int(np.searchsorted(np.cumsum(occ_w / occ_w.sum()), hu(seed, "social-occ", key)))
                occ = w.occupations[min(oi, len(w.occupations) - 1)].code
                lv = cat.LEVELS[int(np.searchsorted(np.cumsum(cat.LEVEL_WEIGHTS), hu(seed, "social-lv", key)))]
                org = w.org_for(occ, d - 4, key)
                size = int(hi(seed, "social-n", 8, 36, key))
                base_p = 20_000_000 + (d - WS) * 20_000 + e * 100
                specs.append(dict(day=d, org=org.idx, slot=int(hi(seed, "exam-slot", 0, 2, key)), key=key, occ=occ,
                                  level=lv, cls=-1, cands=[(base_p + i, False) for i in range(size)]))
        # positions within (day, org, slot) decide exam ids and assessors: no assessor is on two
        # exams of the same slot, and slots never overlap
        specs.sort(key=lambda s: (s["day"], s["org"], s["slot"], s["key"]))
        exams = []
        prev, pos = None, 0
        for s in specs:
            g = (s["day"], s["org"], s["slot"])
            pos = pos + 1 if g == prev else 0
            prev = g
            org = w.orgs[s["org"]]
            onum = int(org.org_id[2:])
            exam_id = f"EX{ddate(s['day']).strftime('%Y%m%d')}{onum:04d}{s['slot']}{pos:02d}"
            start = at(s["day"], 9) if s["slot"] == 0 else at(s["day"], 14)
            exams.append(dict(s, exam_id=exam_id, start=start, end=start + 7200,
                              assessors=[f"KP{onum:04d}{pos * 3 + r:03d}" for r in range(3)],
                              announce=s["day"] - int(hi(seed, "announce", 1, 5, s["key"]))))
        self._results(exams)
        return exams

    def _results(self, exams: list[dict]) -> None:
        """Results of every exam, computed in one vectorised pass: pass/fail (at most
        ceil(0.95 n) - 1 passes when n >= 20), distinct score pairs, recording time, and for
        passes the certificate and claim time line."""
        seed = self.seed
        if not exams:
            return
        n_of = np.array([len(ex["cands"]) for ex in exams], dtype=np.int64)
        p = np.array([c for ex in exams for c, _ in ex["cands"]], dtype=np.int64)
        elig = np.array([e for ex in exams for _, e in ex["cands"]], dtype=bool)
        rk = np.repeat(np.array([ex["key"] for ex in exams], dtype=np.int64), n_of)
        u = hu(seed, "pass", p, rk)
        h0, h1, h2, h3, h5 = (hu(seed, "scores", p, rk, j) for j in (0, 1, 2, 3, 5))
        rec_a = hi(seed, "rec", 1800, 4 * 3600, p, rk)
        rec_b = hi(seed, "rec2", 0, 7200, p, rk)
        issue = hi(seed, "issue", 7, 21, p, rk)
        claim_d, claim_s = hi(seed, "claim-d", 1, 11, p), hi(seed, "claim-s", 0, 8 * 3600, p)
        decide, decide_s = hi(seed, "decide", 3, 11, p), hi(seed, "decide-s", 0, 7200, p)
        pay, reject = hi(seed, "pay", 5, 16, p), hu(seed, "reject", p) < 0.02
        fix = hu(seed, "result-fix", p, rk) < 0.02             # a corrected delivery 1-2 days later
        fix_d = 1 + (hu(seed, "fix-d", p) * 2).astype(np.int64)
        passed_all = u < 0.82
        pos = 0
        for ex, n in zip(exams, n_of.tolist(), strict=True):
            sl = slice(pos, pos + n)
            pos += n
            passed = passed_all[sl].copy()
            cap = int(np.ceil(0.95 * n)) - 1          # ABNORMAL_PASS_RATE guard (n >= 20)
            if n >= 20 and passed.sum() > cap:
                for j in np.argsort(-u[sl]).tolist():
                    if passed.sum() <= cap:
                        break
                    passed[j] = False
            res = []
            seen: set[tuple[float, float]] = set()
            for i in range(n):
                j = sl.start + i
                half = h5[j] < 0.2
                if passed[i]:
                    th, pr = 60 + h0[j] * 40, 60 + h1[j] * 40
                else:
                    th = 30 + h0[j] * 29.5 if h2[j] < 0.8 else 60 + h0[j] * 40
                    pr = 30 + h1[j] * 29.5 if h2[j] >= 0.4 else 60 + h1[j] * 40
                th = round(th * 2) / 2 if half else float(round(th))
                pr = round(pr * 2) / 2 if half else float(round(pr))
                th = unique_theory(th, pr, seen)      # IDENTICAL_SCORES guard: pairs unique in an exam
                seen.add((th, pr))
                rec = ex["end"] + int(rec_a[j]) if h3[j] >= 0.2 else at(ex["day"] + 1, 9) + int(rec_b[j])
                r = dict(result_id=f"R{ex['exam_id'][2:]}{i:03d}", p=int(p[j]), theory=th, practical=pr,
                         passed=bool(passed[i]), recorded=rec, eligible=bool(elig[j]), timeline=None,
                         fix_day=rec // DAY + int(fix_d[j]) if fix[j] else None)
                if passed[i]:
                    issued = ex["day"] + int(issue[j])
                    t = dict(issued=issued, cert=f"Y{ex['exam_id'][2:]}{i:03d}")
                    if elig[j]:
                        claimed = at(issued + int(claim_d[j]), 9) + int(claim_s[j])
                        decided = at(claimed // DAY + int(decide[j]), 10) + int(decide_s[j])
                        t.update(claimed=claimed, decided=decided, rejected=bool(reject[j]),
                                 paid=None if reject[j] else at(decided // DAY + int(pay[j]), 15))
                    r["timeline"] = t
                res.append(r)
            ex["results"] = res
            ex["registered"] = n + int(hi(seed, "noshow", 0, 3, ex["key"]))

    @staticmethod
    def claim_timeline(ex: dict, r: dict) -> dict | None:
        """Certificate and claim dates of a passed result (None: no certificate)."""
        return r["timeline"]


def unique_theory(th: float, pr: float, seen: set[tuple[float, float]]) -> float:
    """``th`` moved by the smallest half point that makes (th, pr) new, on the same side of 60."""
    lo, hi_ = (60.0, 100.0) if th >= 60 else (0.0, 59.5)
    for step in range(0, 400):
        for cand in (th + 0.5 * step, th - 0.5 * step):
            if lo <= cand <= hi_ and (cand, pr) not in seen:
                return cand
    raise RuntimeError("no free score pair")
