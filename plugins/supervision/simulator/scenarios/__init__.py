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

from supervision.catalogue import RULE_CODES
from supervision.simulator.scenarios import gaming
from supervision.simulator.scenarios.assessment import (
    abnormal_pass_rate,
    assessor_double_booked,
    certificate_without_pass,
    exam_during_training,
    identical_scores,
    score_flag_mismatch,
)
from supervision.simulator.scenarios.attendance import (
    attendance_outside_window,
    camera_down,
    checkin_burst,
    concurrent_checkin,
    face_not_seen,
    headcount_shortfall,
    session_odd_hours,
    unregistered_site,
    weak_identity,
)
from supervision.simulator.scenarios.claims import (
    certificate_mismatch,
    duplicate_subsidy,
    early_claim,
    insufficient_hours,
)
from supervision.simulator.scenarios.context import Ctx, Label, Out, Person, Stream, instances
from supervision.simulator.scenarios.records import age_out_of_range, invalid_id_number, out_of_scope
from supervision.simulator.world import World

RULES = RULE_CODES  # every rule of the catalogue, in RULES.md order
MAX_LAG = 4   # days between a scenario's origin and its last delivery (late video up to D+2)

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
    gaming.play_day(c)      # actors that stay just inside every threshold (labels: gaming.csv)
    # fresh sites' cameras have no shard of their own: their events go to a file of their own
    for site_id, st in c.fresh_streams:
        st.file = (f"vms-{site_id.lower()}.jsonl.gz", day)
        c.out.streams.append((-1, st))
    return c.out


__all__ = ["MAX_LAG", "RULES", "SCENARIOS", "Ctx", "Label", "Out", "Person", "Stream", "instances",
           "scenarios_of_day"]
