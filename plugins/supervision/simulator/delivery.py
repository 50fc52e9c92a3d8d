"""The state one simulated range is built in (the world, the days, the tables, labels and faults
written so far) and the recorders that the deliveries of the three sources share."""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from supervision.simulator import scenarios as sc
from supervision.simulator.background import Background
from supervision.simulator.util import dstr
from supervision.simulator.world import World

MAX_VIDEO_LATE = 3


class Delivery:
    """What the training rows, the assessment files and the video files of one range are made from."""

    ci_act: np.ndarray                                  # classes that can be active in the range
    scen: dict[int, sc.Out]                             # origin day -> what its scenarios deliver
    exams: list[dict]                                   # background exams whose rows fall in the range
    att_ids: dict[tuple[int, str], int]                 # (day, scenario tag) -> attendance id

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

