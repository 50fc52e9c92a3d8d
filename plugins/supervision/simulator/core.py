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
from collections import Counter
from datetime import date
from pathlib import Path

from supervision.simulator import scenarios as sc
from supervision.simulator.assessment_files import AssessmentFiles
from supervision.simulator.delivery import MAX_VIDEO_LATE
from supervision.simulator.formats import write_atomic
from supervision.simulator.scenarios import gaming
from supervision.simulator.training_rows import TrainingRows
from supervision.simulator.util import dnum, dstr
from supervision.simulator.video_files import VideoFiles
from supervision.simulator.world import WS, World

LABEL_FIELDS = ("rule_code", "entity_key", "must_fire", "day", "note")
FAULT_FIELDS = ("day", "source", "object", "fault", "count")


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
    if anomaly_rate > 0:
        merge_csv(labels_dir / "gaming.csv", gaming.LABEL_FIELDS, gaming.labels(first, last), key_len=2)
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
    for given in rows:
        row = tuple(str(x) for x in given)
        merged[row[:key_len]] = row
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(fields)
    for k in sorted(merged):
        w.writerow(merged[k])
    write_atomic(path, out.getvalue().encode("utf-8"))
    return len(merged)


class _Simulation(TrainingRows, AssessmentFiles, VideoFiles):
    """One call's range: the scenarios of its days, then the three sources, then the labels."""

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

    def _labels(self) -> None:
        for d, out in self.scen.items():
            for lb in out.labels:
                if not self.first <= lb.ready <= self.last:
                    continue
                key = lb.key
                if isinstance(key, tuple):      # an attendance row: its id is known now
                    key = str(self.att_ids[(d, key[1])])
                self.label(lb.rule, key, lb.must_fire, lb.day, lb.note)

