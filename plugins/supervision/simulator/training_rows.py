"""The training platform's rows of a range: reference and class rows, claims, attendance, and the
faults injected into them."""
from __future__ import annotations

from datetime import date

from supervision.simulator.catalogue import SUBSIDY_BY_LEVEL
from supervision.simulator.delivery import Delivery
from supervision.simulator.util import DAY, at, day_rng, dnum, dstr, id_number_valid, ts_db
from supervision.simulator.world import WS, World


class TrainingRows(Delivery):
    """Rows of the training platform's tables, appended to ``tables`` (each version once)."""

    def _training(self) -> None:
        bg, first, last = self.bg, self.first, self.last
        for d in range(first, last + 1):
            for t, rows in bg.reference_rows(d).items():
                self.tables[t].extend(rows)
        for t, rows in bg.class_rows(self.ci_act, first, last).items():
            self.tables[t].extend(rows)
        # typo'd ID numbers among the background trainees delivered: INVALID_ID_NUMBER positives
        for r in self.tables["trainees"]:
            if r[0][11] != "8" and not _valid(r[1]):     # background trainees only
                d = dnum(date.fromisoformat(r[-1][:10]))
                self.label("INVALID_ID_NUMBER", r[0], True, d, "source fault: ID number fails the check digit")
                self.fault(d, "training", "trainees", "invalid_id_number", 1)
        # scenario rows: versions dated in the range
        lo, hi_ = first * DAY, (last + 1) * DAY
        for out in self.scen.values():
            for t, rows in out.db.items():
                for r in rows:
                    if lo <= _ls(r[-1]) < hi_:
                        self.tables[t].append(r)
        self._claims_and_attendance()
        self._training_faults()

    def _claims_and_attendance(self) -> None:
        first, last, bg = self.first, self.last, self.bg
        # claims of background certificates (timelines from the exam chain)
        for ex in self.exams:
            if ex["cls"] < 0:
                continue
            cid = self.w.classes.ids[ex["cls"]]
            for r in ex["results"]:
                tl = bg.claim_timeline(ex, r)
                if not tl or "claimed" not in tl:
                    continue
                k = r["p"] % 64
                eid, tid = f"ENR{cid[3:]}{k:03d}", f"TRN{cid[3:]}{k:03d}"
                amount = f"{_amount(self.w, ex):.2f}"
                vers = [(tl["claimed"], "submitted"), (tl["decided"], "rejected" if tl["rejected"] else "approved")]
                if tl["paid"]:
                    vers.append((tl["paid"], "paid"))
                for ls, status in vers:
                    if first <= ls // DAY <= last:
                        self.tables["subsidy_claims"].append((f"CLM{cid[3:]}{k:03d}", eid, tid, tl["cert"], amount,
                                                              ts_db(tl["claimed"]), status, ts_db(ls)))
        # attendance: background + scenario rows of each day, numbered in insertion order
        self.att_ids: dict[tuple[int, str], int] = {}
        for d in range(first, last + 1):
            rows = [r + [""] for r in bg.attendance_rows(d, self.ci_act)]
            out = self.scen.get(d)
            if out:
                rows += [list(r) for r in out.attendance]
            rows += self._attendance_faults(d, rows)
            rows.sort(key=lambda r: (r[5], r[0], r[1], r[2], r[7]))
            base = d * 1_000_000
            for i, (sid, tid, ev, method, dev, t, score, tag) in enumerate(rows):
                self.tables["attendance"].append((base + i, sid, tid, ev, method, dev, ts_db(t), score, ts_db(t)))
                if tag:
                    self.att_ids[(d, tag)] = base + i

    def _attendance_faults(self, d: int, rows: list[list]) -> list[list]:
        """Dangling session references and out-of-enum methods (rows of non-subsidised classes)."""
        rng = day_rng(self.seed, d, "att-faults")
        extra: list[list] = []
        plain = [r for r in rows if not r[7] and r[3] != "face"]   # card/manual: non-subsidised classes
        if plain and rng.random() < self.p("enum"):
            r = plain[int(rng.integers(0, len(plain)))]
            r[3] = "fingerprint"
            self.fault(d, "training", "attendance", "out_of_enum", 1)
        bgrows = [r for r in rows if not r[7]]
        if bgrows and rng.random() < self.p("fk"):
            r = bgrows[int(rng.integers(0, len(bgrows)))]
            extra.append([f"SES{dstr(d).replace('-', '')}999{int(rng.integers(0, 1000)):03d}", r[1], "check_in", "card",
                          "DEV0000000", at(d, 12) + int(rng.integers(0, 3600)), None, ""])
            self.fault(d, "training", "attendance", "dangling_fk", 1)
        return extra

    def _training_faults(self) -> None:
        """Out-of-enum values and dangling references on background rows that no rule reads."""
        w, a = self.w, self.w.classes.a
        room_insts = {w.institutions[w.sites[r].inst].institution_id for r in w.rooms}
        cls_index = {cid: i for i, cid in enumerate(w.classes.ids)}

        def nonsub(class_id: str) -> bool:
            i = cls_index.get(class_id)
            return i is not None and a["subsidised"][i] == 0

        for d in range(self.first, self.last + 1):
            rng = day_rng(self.seed, d, "db-faults")
            day_prefix = dstr(d)

            def pick(table: str, ok, d=d, day_prefix=day_prefix, rng=rng) -> int | None:
                idx = [i for i, r in enumerate(self.tables[table]) if r[-1].startswith(day_prefix) and ok(r)]
                return idx[int(rng.integers(0, len(idx)))] if idx else None

            specs = [("institutions", lambda r: r[0] not in room_insts and r[0] < "INS5", 3, "PRIVATE"),
                     ("classes", lambda r: not r[5] and r[0] in cls_index, 4, "pilot"),
                     ("trainees", lambda r: nonsub("CLS" + r[0][3:15]), 3, "U"),
                     ("sessions", lambda r: r[6] == "held" and nonsub(r[1]), 6, "completed"),
                     ("subsidy_claims", lambda r: len(r[0]) == 18, 6, "pending")]
            for table, ok, col, value in specs:
                if rng.random() >= self.p("enum"):
                    continue
                i = pick(table, ok)
                if i is None:
                    continue
                r = list(self.tables[table][i])
                r[col] = value
                self.tables[table][i] = tuple(r)
                self.fault(d, "training", table, "out_of_enum", 1)
            if rng.random() < self.p("fk"):
                i = pick("enrollments", lambda r: r[0][3:15] == r[1][3:] and r[4] == "active")
                if i is not None:
                    e = self.tables["enrollments"][i]
                    self.tables["enrollments"].append((e[0][:-3] + "9" + e[0][-2:], "CLS" + "0" * 8 + "9999", e[2], e[3],
                                                       "dropped", None, e[-1]))
                    self.fault(d, "training", "enrollments", "dangling_fk", 1)
            if d == WS and rng.random() < self.p("fk"):
                self.tables["cameras"].append(("CAM999999991", "SITE9999999", dstr(d - 30), ts_db(at(d, 0, 7))))
                self.fault(d, "training", "cameras", "dangling_fk", 1)


def _valid(number: str) -> bool:
    return id_number_valid(number, date(2100, 1, 1))


def _ls(ts: str) -> int:
    d = dnum(date.fromisoformat(ts[:10]))
    return d * DAY + int(ts[11:13]) * 3600 + int(ts[14:16]) * 60 + int(ts[17:19])


def _amount(world: World, ex: dict) -> float:
    occ = world.occupations[world.occ_index[ex["occ"]]]
    return SUBSIDY_BY_LEVEL[ex["level"]] * (1.2 if occ.urgent else 1.0)

