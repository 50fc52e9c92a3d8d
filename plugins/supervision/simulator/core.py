"""``generate``: deliver the simulated sources for a range of days.

A call for [start, end] writes what the three upstream systems deliver on those days: training
platform row versions whose updated_at falls in the range (upserted, newer wins), video files
delivered on those days (including late files and re-deliveries into older date= folders), and
each day's assessment CSVs. Labels of the scenarios that became complete in the range, and the
faults written, are merged into ``labels.csv`` and ``faults.csv``.
"""
from __future__ import annotations

import csv
import io
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import numpy as np

from supervision.simulator import scenarios as sc
from supervision.simulator.background import Background
from supervision.simulator.formats import (
    CSV_COLUMNS,
    CSV_KINDS,
    csv_line,
    gzip_bytes,
    write_atomic,
)
from supervision.simulator.util import (
    DAY,
    HMS,
    at,
    day_rng,
    ddate,
    dnum,
    dstr,
    hkey,
    hu,
    person_id,
    person_name,
    ts_db,
)
from supervision.simulator.world import WS, World

MAX_VIDEO_LATE = 3
LABEL_FIELDS = ("rule_code", "entity_key", "must_fire", "day", "note")
FAULT_FIELDS = ("day", "source", "object", "fault", "count")
STATE_NAMES = ("online", "offline", "occluded", "tampered")


def generate(start: date, end: date, scale: float = 0.05, seed: int = 2024, training_db_url: str | None = None,
             landing: str | Path | None = None, labels_dir: str | Path | None = None,
             anomaly_rate: float = 0.002, fault_rate: float = 0.02, backfill: bool = True,
             write_db: bool = True) -> dict:
    """Write the three sources for the days ``start``..``end`` (inclusive); returns a summary.

    scale: 1.0 is the city (about 1,500 held sessions a working day). anomaly_rate: labelled
    scenario instances per rule and day = anomaly_rate x 1,500 x scale (stochastically rounded; 0
    for none). fault_rate: how often the known source faults are injected (0 for clean sources).
    backfill: when the training database is empty and ``start`` is after the world's go-live
    (2024-01-01), start from go-live so that the sources hold the whole history."""
    from supervision.config import settings
    from supervision.simulator import trainingdb

    t0 = time.monotonic()
    if end < start:
        raise ValueError("end is before start")
    s = settings()
    landing = Path(landing) if landing else s.landing
    labels_dir = Path(labels_dir) if labels_dir else s.var_dir / "simulator"
    first, last = max(dnum(start), WS), dnum(end)
    summary: dict = {"start": start.isoformat(), "end": end.isoformat(), "scale": scale, "seed": seed}
    engine = None
    if write_db:
        engine = trainingdb.engine_for(training_db_url or s.training_db_url())
        empty = trainingdb.is_empty(engine)
        trainingdb.ensure_schema(engine)
        if backfill and empty and first > WS:
            summary["backfilled_from"] = dstr(WS)
            first = WS
    if last < first:
        summary.update(days=0, note="nothing before the world's go-live (2024-01-01)")
        return summary
    world = World.get(seed, scale)
    sim = _Simulation(world, first, last, anomaly_rate, fault_rate, landing)
    sim.run()
    if engine is not None:
        summary["rows"] = trainingdb.write_tables(engine, sim.tables)
        engine.dispose()
    else:
        summary["rows"] = {t: len(r) for t, r in sim.tables.items()}
    labels_written = merge_csv(labels_dir / "labels.csv", LABEL_FIELDS, sim.label_rows, key_len=2)
    merge_csv(labels_dir / "faults.csv", FAULT_FIELDS, sim.fault_rows, key_len=4)
    pos = sum(1 for r in sim.label_rows if r[2] == "true")
    summary.update(days=last - first + 1, first_day=dstr(first), last_day=dstr(last),
                   video_files=sim.n_video_files, video_events=sim.n_video_events,
                   assessment_files=sim.n_csv_files, attendance=len(sim.tables.get("attendance", [])),
                   labels={"positive": pos, "negative": len(sim.label_rows) - pos, "total_in_file": labels_written},
                   labels_by_rule=dict(sorted(Counter(r[0] for r in sim.label_rows).items())),
                   faults=dict(sorted(sim.fault_totals.items())), scenario_instances_skipped=sim.skipped,
                   landing=str(landing), labels_dir=str(labels_dir), seconds=round(time.monotonic() - t0, 2))
    return summary


def merge_csv(path: Path, fields: tuple[str, ...], rows: list[tuple], key_len: int) -> int:
    """Merge ``rows`` into the CSV at ``path``: keyed on the first ``key_len`` fields (new wins),
    sorted, no duplicates. Returns the number of rows in the file."""
    merged: dict[tuple, tuple] = {}
    if path.exists():
        with path.open(encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                row = tuple(r[k] for k in fields)
                merged[row[:key_len]] = row
    for r in rows:
        r = tuple(str(x) for x in r)
        merged[r[:key_len]] = r
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(fields)
    for k in sorted(merged):
        w.writerow(merged[k])
    write_atomic(path, out.getvalue().encode("utf-8"))
    return len(merged)


class _Simulation:
    def __init__(self, world: World, first: int, last: int, rate: float, fault_rate: float, landing: Path):
        self.w, self.seed = world, world.seed
        self.first, self.last = first, last
        self.rate, self.fault_rate = rate, fault_rate
        self.landing = landing
        self.bg = Background(world, fault_rate)
        self.tables: dict[str, list[tuple]] = defaultdict(list)
        self.label_rows: list[tuple] = []
        self.fault_rows: list[tuple] = []
        self.fault_totals: Counter = Counter()
        self.n_video_files = self.n_video_events = self.n_csv_files = 0
        self.skipped = 0
        self.cam_names = [c for c, _, _ in world.cameras]
        self.cam_index = {c: i for i, c in enumerate(self.cam_names)}

    def p(self, kind: str) -> float:
        """Probability that a file/day gets a fault of one kind."""
        return min(1.0, 5 * self.fault_rate)

    def fault(self, day: int, source: str, obj: str, fault: str, count: int) -> None:
        if count:
            self.fault_rows.append((dstr(day), source, obj, fault, count))
            self.fault_totals[fault] += count

    def label(self, rule: str, key: str, must_fire: bool, day: int, note: str) -> None:
        self.label_rows.append((rule, key, "true" if must_fire else "false", dstr(day), note))

    # ================================================================================ run
    def run(self) -> None:
        w, first, last = self.w, self.first, self.last
        ct = w.classes
        ct.ensure(last + 40)
        self.ci_act = ct.classes_between(first - MAX_VIDEO_LATE - 2, last + 22)
        self.scen = {d: sc.scenarios_of_day(w, d, self.rate)
                     for d in range(max(WS, first - sc.MAX_LAG), last + 1)}
        for out in self.scen.values():
            self.skipped += out.skipped
        self._assessment()      # first: claims follow the exam chain
        self._training()
        self._video()
        self._labels()

    # ================================================================================ training
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
                    r = self.tables["enrollments"][i]
                    self.tables["enrollments"].append((r[0][:-3] + "9" + r[0][-2:], "CLS" + "0" * 8 + "9999", r[2], r[3],
                                                       "dropped", None, r[-1]))
                    self.fault(d, "training", "enrollments", "dangling_fk", 1)
            if d == WS and rng.random() < self.p("fk"):
                self.tables["cameras"].append(("CAM999999991", "SITE9999999", dstr(d - 30), ts_db(at(d, 0, 7))))
                self.fault(d, "training", "cameras", "dangling_fk", 1)

    # ================================================================================ assessment
    def _assessment(self) -> None:
        bg, first, last = self.bg, self.first, self.last
        ct = self.w.classes
        # exams whose results, certificates or claims can be delivered in the range: a claim is paid
        # at most 55 days after its exam, an exam is announced at most 4 days before it is held,
        # and an exam follows its class by 5-17 days
        ci_end = ct.classes_between(first - 75, last + 5)
        ci_end = ci_end[(ct.a["end_day"][ci_end] <= last + 5) & (ct.a["cancelled"][ci_end] == 0)]
        self.exams = bg.exams(ci_end, first - 56, last + 5)
        per_day: dict[tuple[int, str], list[dict]] = defaultdict(list)
        corrected: dict[tuple[int, str], list[dict]] = defaultdict(list)

        def inside(d: int) -> bool:
            return first <= d <= last

        for ex in self.exams:
            org = self.w.orgs[ex["org"]]
            row = dict(exam_id=ex["exam_id"], org_id=org.org_id, occupation_code=ex["occ"], skill_level=str(ex["level"]),
                       starts_at=_lt(ex["start"], False), ends_at=_lt(ex["end"], False),
                       assessor_ids=";".join(ex["assessors"]), registered=str(ex["registered"]))
            if inside(ex["announce"]):
                per_day[(ex["announce"], "exam_sessions")].append(row)
            if inside(ex["day"]) and hu(self.seed, "exam-change", ex["key"]) < 0.1:   # registered corrected on the day
                corrected[(ex["day"], "exam_sessions")].append(dict(row, registered=str(len(ex["results"]))))
            pairs = {(x["theory"], x["practical"]) for x in ex["results"]}
            for r in ex["results"]:
                rec_day, fix_day = r["recorded"] // DAY, r["fix_day"]
                tl = r["timeline"]
                if not (inside(rec_day) or (fix_day and inside(fix_day)) or (tl and inside(tl["issued"]))):
                    continue
                number, _, _ = person_id(r["p"])
                name = person_name(self.seed, r["p"])
                rrow = dict(result_id=r["result_id"], exam_id=ex["exam_id"], id_number=number, name=name,
                            theory_score=_num(r["theory"]), practical_score=_num(r["practical"]),
                            passed="合格" if r["passed"] else "不合格", recorded_at=_lt(r["recorded"], True))
                if inside(rec_day):
                    per_day[(rec_day, "exam_results")].append(rrow)
                if fix_day and inside(fix_day):
                    # a corrected delivery: half a point on the theory score, same side of 60, and
                    # still a score pair of its own
                    th = r["theory"] + (0.5 if r["theory"] < 100 and (r["theory"] >= 60) == (r["theory"] + 0.5 >= 60)
                                        else -0.5)
                    if (th, r["practical"]) not in pairs:
                        corrected[(fix_day, "exam_results")].append(
                            dict(rrow, theory_score=_num(th), recorded_at=_lt(r["recorded"] + DAY, True)))
                if tl and inside(tl["issued"]):
                    per_day[(tl["issued"], "certificates")].append(dict(
                        certificate_no=tl["cert"], result_id=r["result_id"], id_number=number, name=name,
                        occupation_code=ex["occ"], skill_level=str(ex["level"]), issued_on=dstr(tl["issued"]),
                        org_id=org.org_id))
        scen_rows: dict[tuple[int, str], list[dict]] = defaultdict(list)
        for out in self.scen.values():
            for (d, kind), rows in out.csv.items():
                scen_rows[(d, kind)].extend(rows)
        for d in range(first, last + 1):
            orgs = [dict(org_id=o.org_id, name=o.name, kind=o.kind, district_code=o.district,
                         occupation_codes=";".join(o.occupations), registered_on=dstr(o.registered_on),
                         valid_to=dstr(o.valid_to)) for o in self.w.orgs if o.registered_on <= d]
            for kind in CSV_KINDS:
                bgrows = orgs if kind == "evaluation_orgs" else per_day.get((d, kind), []) + corrected.get((d, kind), [])
                key = {"evaluation_orgs": "org_id", "exam_sessions": "exam_id", "exam_results": "result_id",
                       "certificates": "certificate_no"}[kind]
                bgrows = sorted(bgrows, key=lambda r, key=key: r[key])
                srows = scen_rows.get((d, kind), [])
                if not bgrows and not srows:
                    continue        # nothing to report: no file that day
                self._write_csv(d, kind, bgrows, srows)

    def _write_csv(self, d: int, kind: str, bgrows: list[dict], srows: list[dict]) -> None:
        rel = f"assessment/date={dstr(d)}/{kind}.csv"
        rng = day_rng(self.seed, d, "csv-" + kind)
        cols = CSV_COLUMNS[kind]
        q = min(1 / 3, 10 * self.fault_rate)
        u = rng.random()
        encoding = "gb18030" if u < q else ("utf-8-sig" if u < 2 * q else "utf-8")
        order = list(range(len(cols)))
        if rng.random() < min(0.5, 10 * self.fault_rate):
            order = [int(x) for x in rng.permutation(len(cols))]
            self.fault(d, "assessment", rel, "columns_reordered", 1)
        lines = [csv_line([cols[i][0] for i in order])]
        faults: Counter = Counter()
        body: list[str] = []
        for j, row in enumerate(bgrows + srows):
            cells = [row[cols[i][1]] for i in order]
            body.append(csv_line(cells))
            if j < len(bgrows):
                body.extend(self._faulty_copies(d, kind, row, order, rng, faults))
        for _ in range(int(rng.integers(1, 4)) if rng.random() < self.p("blank") else 0):
            body.insert(int(rng.integers(0, len(body) + 1)), "")
            faults["blank_lines"] += 1
        lines += body
        text = ("\r\n" if encoding == "gb18030" else "\n").join(lines) + ("\r\n" if encoding == "gb18030" else "\n")
        if encoding == "gb18030":
            self.fault(d, "assessment", rel, "encoding_gb18030", 1)
        elif encoding == "utf-8-sig":
            self.fault(d, "assessment", rel, "utf8_bom", 1)
        for f, n in sorted(faults.items()):
            self.fault(d, "assessment", rel, f, n)
        if write_atomic(self.landing / rel, text.encode(encoding)):
            pass
        self.n_csv_files += 1

    def _faulty_copies(self, d: int, kind: str, row: dict, order: list[int], rng: np.random.Generator,
                       faults: Counter) -> list[str]:
        """Malformed repeats of a background row (same key, same content), placed right after it:
        whether a loader repairs or quarantines them, the data it keeps is the same. A repaired
        number must still be a number: such results are labelled SCORE_FLAG_MISMATCH negatives."""
        cols = CSV_COLUMNS[kind]
        out = []
        prob = self.p("row") / 20
        if kind == "evaluation_orgs":
            prob /= 5
        for fault in ("too_few_columns", "too_many_columns", "number_spaces", "fullwidth_digits", "bad_date_format"):
            if rng.random() >= prob:
                continue
            if fault in ("number_spaces", "fullwidth_digits") and kind == "evaluation_orgs":
                continue
            cells = [row[cols[i][1]] for i in order]
            names = [cols[i][1] for i in order]
            if fault == "too_few_columns":
                cells = cells[: len(cells) - int(rng.integers(1, 3))]
            elif fault == "too_many_columns":
                cells = [*cells, "備註"]
            elif fault in ("number_spaces", "fullwidth_digits"):
                field = {"exam_sessions": "registered", "exam_results": "theory_score", "certificates": "skill_level"}[kind]
                i = names.index(field)
                cells[i] = f" {cells[i]} " if fault == "number_spaces" else cells[i].translate(_FULLWIDTH)
                if kind == "exam_results":
                    self.label("SCORE_FLAG_MISMATCH", row["result_id"], False, d,
                               f"a repeated row writes the theory score as {cells[i]!r}")
            else:
                field = {"evaluation_orgs": "registered_on", "exam_sessions": "starts_at", "exam_results": "recorded_at",
                         "certificates": "issued_on"}[kind]
                i = names.index(field)
                cells[i] = cells[i].replace("-", "/")
            out.append(csv_line(cells))
            faults[fault] += 1
        return out

    # ================================================================================ video
    def _video(self) -> None:
        """Files delivered on first..last: for each date D in [first-3, last], each shard's file is
        delivered on D (or up to 3 days late); some are re-delivered (repeating event ids), some
        re-deliveries arrive truncated."""
        w, seed = self.w, self.seed
        for D in range(max(WS, self.first - MAX_VIDEO_LATE), self.last + 1):
            plan = []   # (file name, delivery day, shard, subset-kind)
            for s in range(w.n_shards):
                lag = int(hu(seed, "late", D, s) < 0.05) * (1 + int(hu(seed, "late-d", D, s) * MAX_VIDEO_LATE))
                plan.append((f"vms-{s:02d}.jsonl.gz", D + lag, s, "all"))
                if hu(seed, "redeliver", D, s) < 0.04:
                    rd = D + 1 + int(hu(seed, "redeliver-d", D, s) * MAX_VIDEO_LATE)
                    plan.append((f"vms-{s:02d}-r{ddate(rd).strftime('%Y%m%d')}.jsonl.gz", rd, s, "redeliver"))
            if hu(seed, "truncated", D) < self.p("gzip"):
                s = int(hu(seed, "truncated-s", D) * w.n_shards)
                plan.append((f"vms-{s:02d}-resend.jsonl.gz", D + 1, s, "truncated"))
            out = self.scen.get(D)
            extra_files: dict[tuple[str, int], list[tuple]] = defaultdict(list)
            if out:
                rng = day_rng(seed, D, "streams")
                for _site, st in out.streams:
                    if st.file:
                        extra_files[st.file].extend(st.events(rng))
            for (name, dd), events in sorted(extra_files.items()):
                if self.first <= dd <= self.last:
                    self._write_video(D, dd, name, self._scenario_arrays(events))
            needed = [p for p in plan if self.first <= p[1] <= self.last]
            if not needed:
                continue
            shard_events = {}
            for s in sorted({p[2] for p in needed}):
                shard_events[s] = self._shard_events(D, s, out)
            for name, dd, s, kind in needed:
                ev = shard_events[s]
                if kind == "all":
                    self._write_video(D, dd, name, ev, faults=True, presorted=True)
                else:
                    n = len(ev["t"])
                    rng = day_rng(seed, D, f"subset-{s}-{kind}")
                    keep = np.sort(rng.choice(n, size=max(1, int(n * rng.uniform(0.2, 0.6))), replace=False)) if n else \
                        np.zeros(0, np.int64)
                    sub = {k: v[keep] for k, v in ev.items()}
                    self._write_video(D, dd, name, sub, truncate=(kind == "truncated"), presorted=True)

    def _shard_events(self, D: int, s: int, out: sc.Out | None) -> dict[str, np.ndarray]:
        """All events of shard ``s`` on date D, sorted, with their event ids (the same every time)."""
        bg = self.bg
        ev = bg.video_events(D, s, self.ci_act)
        names = np.array(self.cam_names, dtype=object)
        tr = ev["tr"]
        tr_names = np.full(len(tr), None, dtype=object)
        face = tr >= 0
        tr_names[face] = [bg.trainee_id_of(int(x)) for x in tr[face]]
        arr = dict(cam=names[ev["cam"]], t=ev["t"], type=ev["type"].astype(np.int64), val=ev["val"],
                   tr=tr_names, score=ev["score"])
        if out:
            rng = day_rng(self.seed, D, f"streams-{s}")
            evs = []
            for site, st in out.streams:
                if site >= 0 and st.file is None and self.w.sites[site].shard == s:
                    evs.extend(st.events(rng))
            if evs:
                sa = self._scenario_arrays(evs)
                arr = {k: np.concatenate([arr[k], sa[k]]) for k in arr}
        return _sorted_with_ids(arr, self.seed, D, f"ids-{s}")

    def _scenario_arrays(self, events: list[tuple]) -> dict[str, np.ndarray]:
        if not events:
            return dict(cam=np.zeros(0, object), t=np.zeros(0, np.int64), type=np.zeros(0, np.int64),
                        val=np.zeros(0, np.int64), tr=np.zeros(0, object), score=np.zeros(0))
        cam, t, typ, val, tr, score = zip(*events, strict=True)
        return dict(cam=np.array(cam, dtype=object), t=np.array(t, dtype=np.int64), type=np.array(typ, dtype=np.int64),
                    val=np.array(val, dtype=np.int64), tr=np.array(tr, dtype=object), score=np.array(score, dtype=float))

    def _write_video(self, D: int, delivered: int, name: str, ev: dict[str, np.ndarray], faults: bool = False,
                     truncate: bool = False, presorted: bool = False) -> None:
        """Write a file of date D's events, delivered on ``delivered`` (faults are recorded then)."""
        if not presorted:
            ev = _sorted_with_ids(ev, self.seed, D, f"ids-{name}")
        rel = f"video/date={dstr(D)}/{name}"
        lines = _video_lines(ev)
        if faults:
            lines = self._video_faults(D, delivered, rel, lines, ev)
        data = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
        blob = gzip_bytes(data)
        if truncate:
            cut = int(len(blob) * day_rng(self.seed, D, "cut-" + name).uniform(0.5, 0.9))
            blob = blob[:cut]
            self.fault(delivered, "video", rel, "truncated_gzip", 1)
        write_atomic(self.landing / rel, blob)
        self.n_video_files += 1
        self.n_video_events += len(lines)

    def _video_faults(self, D: int, delivered: int, rel: str, lines: list[str], ev: dict[str, np.ndarray]) -> list[str]:
        """Bad lines that carry no information a rule could use: garbage, fresh event ids with a field
        missing, unknown types and cameras, and local times without offset on cameras of sites that
        never host a session."""
        rng = day_rng(self.seed, D, "vfault-" + rel)
        n = len(lines)
        if not n:
            return lines
        idle_cams = self._idle_cameras(D)
        bad: list[str] = []
        counts: Counter = Counter()
        hdr = [i for i in range(n) if ev["type"][i] != 0][:1000] or [0]
        for fault in ("not_json", "missing_field", "unknown_type", "unknown_camera", "ts_without_offset"):
            if rng.random() >= self.p(fault):
                continue
            for _ in range(int(rng.integers(1, 4))):
                uid = _uuid(rng.bytes(16))
                j = hdr[int(rng.integers(0, len(hdr)))]
                cam, ts = ev["cam"][j], _iso(int(ev["t"][j]))
                if fault == "not_json":
                    line = rng.choice(['{"event_id": "' + uid + '", "camera_id": "' + cam, "HTTP/1.1 502 Bad Gateway",
                                       "\\x00\\x00 stream reset"])
                elif fault == "missing_field":
                    line = (f'{{"event_id":"{uid}","camera_id":"{cam}","type":"headcount","count":3}}' if rng.random() < 0.5
                            else f'{{"event_id":"{uid}","camera_id":"{cam}","ts":"{ts}","type":"headcount"}}')
                elif fault == "unknown_type":
                    line = f'{{"event_id":"{uid}","camera_id":"{cam}","ts":"{ts}","type":"motion","level":2}}'
                elif fault == "unknown_camera":
                    line = f'{{"event_id":"{uid}","camera_id":"CAM99999{int(rng.integers(0, 1000)):03d}1","ts":"{ts}","type":"headcount","count":4}}'
                else:
                    if not idle_cams:
                        continue
                    c = idle_cams[int(rng.integers(0, len(idle_cams)))]
                    local = f"{dstr(D)}T{HMS[12 * 3600 + int(rng.integers(0, 3600))]}"
                    line = f'{{"event_id":"{uid}","camera_id":"{c}","ts":"{local}","type":"headcount","count":0}}'
                bad.append(str(line))
                counts[fault] += 1
        for line in bad:
            lines.insert(int(rng.integers(0, len(lines) + 1)), line)
        for f, k in sorted(counts.items()):
            self.fault(delivered, "video", rel, f, k)
        return lines

    def _idle_cameras(self, D: int) -> list[str]:
        """Cameras of background sites that host no session on D-1..D+1: an event there means nothing
        to any rule, whichever way a loader reads a time without offset (local or UTC)."""
        S = self.w.classes.sessions(self.ci_act)
        busy = set(S["site"][(S["day"] >= D - 1) & (S["day"] <= D + 1)].tolist())
        return [c for s in self.w.sites if s.role != "room" and s.idx not in busy for c in s.cameras]

    # ================================================================================ labels
    def _labels(self) -> None:
        for d, out in self.scen.items():
            for lb in out.labels:
                if not self.first <= lb.ready <= self.last:
                    continue
                key = lb.key
                if isinstance(key, tuple):      # an attendance row: its id is known now
                    key = str(self.att_ids[(d, key[1])])
                self.label(lb.rule, key, lb.must_fire, lb.day, lb.note)


# --- helpers -----------------------------------------------------------------------------------

_FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _valid(number: str) -> bool:
    from supervision.simulator.util import id_number_valid

    return id_number_valid(number, date(2100, 1, 1))


def _ls(ts: str) -> int:
    d = dnum(date.fromisoformat(ts[:10]))
    return d * DAY + int(ts[11:13]) * 3600 + int(ts[14:16]) * 60 + int(ts[17:19])


def _lt(ls: int, seconds: bool) -> str:
    d, s = divmod(int(ls), DAY)
    return f"{dstr(d)} {HMS[s] if seconds else HMS[s][:5]}"


def _iso(ls: int) -> str:
    d, s = divmod(int(ls), DAY)
    return f"{dstr(d)}T{HMS[s]}+08:00"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def _amount(world: World, ex: dict) -> float:
    from supervision.simulator.catalogue import SUBSIDY_BY_LEVEL

    occ = world.occupations[world.occ_index[ex["occ"]]]
    return SUBSIDY_BY_LEVEL[ex["level"]] * (1.2 if occ.urgent else 1.0)


def _uuid(b: bytes) -> str:
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def _crc(values: np.ndarray) -> np.ndarray:
    import zlib

    table: dict[object, int] = {}
    return np.array([table.setdefault(v, zlib.crc32(str(v).encode()) if v is not None else 0) for v in values.tolist()],
                    dtype=np.int64)


def _sorted_with_ids(ev: dict[str, np.ndarray], seed: int, D: int, stream: str) -> dict[str, np.ndarray]:
    """Events sorted by (ts, camera, type, value, score), each with a UUID (v4 layout) that is a hash
    of the event's own content: a re-delivery repeats exactly the ids of the events it repeats,
    whatever else was generated beside them."""
    n = len(ev["t"])
    if n == 0:
        return dict(ev, id=np.zeros(0, object))
    cam_code = _crc(ev["cam"])
    tr_code = _crc(ev["tr"])
    score = np.round(ev["score"] * 1000).astype(np.int64)
    order = np.lexsort((tr_code, score, ev["val"], ev["type"], cam_code, ev["t"]))
    out = {k: v[order] for k, v in ev.items()}
    keys = [cam_code[order], out["t"], out["type"], out["val"], score[order], tr_code[order]]
    h1 = hkey(seed, "event-id-1", *keys)
    h2 = hkey(seed, "event-id-2", *keys)
    out["id"] = np.array([_uuid_hex(f"{a:016x}{b:016x}") for a, b in zip(h1.tolist(), h2.tolist(), strict=True)],
                         dtype=object)
    return out


def _uuid_hex(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def _video_lines(ev: dict[str, np.ndarray]) -> list[str]:
    lines = []
    iso_cache: dict[int, str] = {}
    for eid, cam, t, typ, val, tr, score in zip(ev["id"].tolist(), ev["cam"].tolist(), ev["t"].tolist(),
                                                 ev["type"].tolist(), ev["val"].tolist(), ev["tr"].tolist(),
                                                 ev["score"].tolist(), strict=True):
        d, s = divmod(t, DAY)
        pre = iso_cache.get(d)
        if pre is None:
            pre = iso_cache[d] = dstr(d) + "T"
        ts = f"{pre}{HMS[s]}+08:00"
        if typ == 0:
            lines.append(f'{{"event_id":"{eid}","camera_id":"{cam}","ts":"{ts}","type":"status","state":"{STATE_NAMES[val]}"}}')
        elif typ == 1:
            lines.append(f'{{"event_id":"{eid}","camera_id":"{cam}","ts":"{ts}","type":"headcount","count":{val}}}')
        else:
            who = f'"{tr}"' if tr is not None else "null"
            lines.append(f'{{"event_id":"{eid}","camera_id":"{cam}","ts":"{ts}","type":"face","trainee_id":{who},"score":{score:.3f}}}')
    return lines
