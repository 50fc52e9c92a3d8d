"""The 22 supervision rules of RULES.md: severity and entity type(s), as the contract fixes them.

Thresholds are not here (they are dbt vars in dbt_project/dbt_project.yml); these are the parts
of each rule that the contract fixes and that no setting may change.
"""
from __future__ import annotations

from typing import NamedTuple


class RuleSpec(NamedTuple):
    severity: str
    entity_types: frozenset[str]
    engine: str  # 'dbt' (rules.rule_<code>) or 'gx' (expectations/)


def _r(sev: str, *types: str, engine: str = "dbt") -> RuleSpec:
    return RuleSpec(sev, frozenset(types), engine)


RULES: dict[str, RuleSpec] = {
    "CAMERA_DOWN": _r("medium", "session"),
    "HEADCOUNT_SHORTFALL": _r("high", "session"),
    "CONCURRENT_CHECKIN": _r("high", "trainee_sessions"),
    "CHECKIN_BURST": _r("medium", "session"),
    "WEAK_IDENTITY": _r("low", "attendance", engine="gx"),
    "FACE_NOT_SEEN": _r("high", "session_trainee"),
    "INSUFFICIENT_HOURS": _r("high", "claim"),
    "DUPLICATE_SUBSIDY": _r("high", "claim"),
    "CERTIFICATE_MISMATCH": _r("high", "claim"),
    "EARLY_CLAIM": _r("medium", "claim"),
    "OUT_OF_SCOPE_CLASS": _r("medium", "class"),
    "UNREGISTERED_SITE": _r("medium", "session"),
    "CERTIFICATE_WITHOUT_PASS": _r("high", "certificate"),
    "ABNORMAL_PASS_RATE": _r("medium", "exam"),
    "IDENTICAL_SCORES": _r("medium", "exam"),
    "EXAM_DURING_TRAINING": _r("high", "result"),
    "ASSESSOR_DOUBLE_BOOKED": _r("medium", "assessor_exams"),
    "INVALID_ID_NUMBER": _r("low", "trainee", "result", engine="gx"),
    "AGE_OUT_OF_RANGE": _r("low", "enrollment", engine="gx"),
    "ATTENDANCE_OUTSIDE_WINDOW": _r("low", "attendance", engine="gx"),
    "SESSION_ODD_HOURS": _r("low", "session", engine="gx"),
    "SCORE_FLAG_MISMATCH": _r("low", "result", engine="gx"),
}

# How many |-separated parts an entity key of each type has.
KEY_PARTS = {"trainee_sessions": 3, "session_trainee": 2, "assessor_exams": 3}
