"""The assessment platform's daily CSV files of a range (exam sessions, results, certificates,
evaluation organisations), with encodings, reordered columns and malformed repeated rows."""
from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from supervision.simulator.delivery import Delivery
from supervision.simulator.formats import CSV_COLUMNS, CSV_KINDS, csv_line, in_script, write_atomic
from supervision.simulator.util import DAY, HMS, day_rng, dstr, hu, person_id, person_name

# Share of the files an office still on the platform's older version exports, in Traditional
# characters (SOURCES.md, "Script"); the others are in Simplified, as the current version writes.
TRADITIONAL_SHARE = 0.25


class AssessmentFiles(Delivery):
    """The CSV files delivered in the range, written under ``landing/assessment``."""

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
        # a hash of its own, so that the script leaves every other random choice of the file unchanged
        script = "traditional" if hu(self.seed, "csv-script/" + kind, d) < TRADITIONAL_SHARE else "simplified"
        q = min(1 / 3, 10 * self.fault_rate)
        u = rng.random()
        encoding = "gb18030" if u < q else ("utf-8-sig" if u < 2 * q else "utf-8")
        order = list(range(len(cols)))
        if rng.random() < min(0.5, 10 * self.fault_rate):
            order = [int(x) for x in rng.permutation(len(cols))]
            self.fault(d, "assessment", rel, "columns_reordered", 1)
        lines = [csv_line([in_script(cols[i][0], script) for i in order])]
        faults: Counter = Counter()
        body: list[str] = []
        for j, row in enumerate(bgrows + srows):
            cells = [_cell(row, cols[i][1], script) for i in order]
            body.append(csv_line(cells))
            if j < len(bgrows):
                body.extend(self._faulty_copies(d, kind, row, order, rng, faults, script))
        for _ in range(int(rng.integers(1, 4)) if rng.random() < self.p("blank") else 0):
            body.insert(int(rng.integers(0, len(body) + 1)), "")
            faults["blank_lines"] += 1
        lines += body
        text = ("\r\n" if encoding == "gb18030" else "\n").join(lines) + ("\r\n" if encoding == "gb18030" else "\n")
        if encoding == "gb18030":
            self.fault(d, "assessment", rel, "encoding_gb18030", 1)
        elif encoding == "utf-8-sig":
            self.fault(d, "assessment", rel, "utf8_bom", 1)
        if script == "traditional":
            self.fault(d, "assessment", rel, "traditional_script", 1)
        for f, n in sorted(faults.items()):
            self.fault(d, "assessment", rel, f, n)
        if write_atomic(self.landing / rel, text.encode(encoding)):
            pass
        self.n_csv_files += 1

    def _faulty_copies(self, d: int, kind: str, row: dict, order: list[int], rng: np.random.Generator,
                       faults: Counter, script: str) -> list[str]:
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
            cells = [_cell(row, cols[i][1], script) for i in order]
            names = [cols[i][1] for i in order]
            if fault == "too_few_columns":
                cells = cells[: len(cells) - int(rng.integers(1, 3))]
            elif fault == "too_many_columns":
                cells = [*cells, in_script("備註", script)]
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


_FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _cell(row: dict, field: str, script: str) -> str:
    """A row's value for the file: enumerations (機構類型, 是否合格) in the file's script, data as it is."""
    v = row[field]
    return in_script(v, script) if field in ("kind", "passed") else v


def _lt(ls: int, seconds: bool) -> str:
    d, s = divmod(int(ls), DAY)
    return f"{dstr(d)} {HMS[s] if seconds else HMS[s][:5]}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"

