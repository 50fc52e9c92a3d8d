"""What the review pages know about rules, statuses, triage actions and districts.

The rules (severity, entity type, labels) come from the one rule catalogue, ``supervision.catalogue``,
the districts from ``supervision.districts``; this module shapes them for validating filters and for
the plain-text outputs (CSV export, e-mail). The pages show their labels in the reader's language
through ``review.i18n``.
"""
from __future__ import annotations

from supervision.catalogue import RULES as CATALOGUE
from supervision.config import CITY_CODE
from supervision.districts import districts

# code: (severity, entity_type, 中文, English), in the order of RULES.md; INVALID_ID_NUMBER shows
# its first entity type (trainee)
RULES: dict[str, tuple[str, str, str, str]] = {
    code: (r.severity, r.entity_type, r.label_zh, r.label_en) for code, r in CATALOGUE.items()
}


def _about(*entity_types: str) -> set[str]:
    """Rules whose (first) entity type is one of these: which evidence page an alert gets."""
    return {code for code, r in CATALOGUE.items() if r.entity_type in entity_types}


SESSION_RULES = _about("session", "trainee_sessions", "session_trainee", "attendance")
CLAIM_RULES = _about("claim")
EXAM_RULES = _about("exam", "result", "certificate", "assessor_exams")

SEVERITIES = {"high": ("高", "High"), "medium": ("中", "Medium"), "low": ("低", "Low")}
STATUSES = {"open": ("待处理", "Open"), "confirmed": ("已确认", "Confirmed"),
            "dismissed": ("误报", "Dismissed"), "resolved": ("已解决", "Resolved")}

# action: (allowed from statuses, to status or None, comment required, 中文, English)
ACTIONS: dict[str, tuple[frozenset[str], str | None, bool, str, str]] = {
    "confirm": (frozenset({"open"}), "confirmed", False, "确认", "Confirm"),
    "dismiss": (frozenset({"open", "confirmed"}), "dismissed", True, "误报驳回", "Dismiss as false positive"),
    "resolve": (frozenset({"open", "confirmed"}), "resolved", False, "已解决", "Resolve"),
    "reopen": (frozenset({"confirmed", "dismissed", "resolved"}), "open", True, "重新打开", "Reopen"),
}

# code -> Chinese name (Simplified), the city first
ALL_DISTRICTS = {CITY_CODE: "全市", **{code: d.name_zh for code, d in districts().items()}}


def district_label(code: str | None) -> str:
    if code is None:
        return "全市 City"
    return f"{ALL_DISTRICTS.get(code, '?')} {code}"


def rule_label(code: str) -> str:
    r = RULES.get(code)
    return f"{r[2]} {r[3]}" if r else code
