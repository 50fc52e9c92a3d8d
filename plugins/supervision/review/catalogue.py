"""What the review pages know about rules, statuses and triage actions (labels in Chinese and English).

Severity and entity type per rule are the contract's (RULES.md); the pipeline's seed
``rule_catalogue`` is the source of record, this is only for display and validation of filters.
"""
from __future__ import annotations

from supervision.config import CITY_CODE, DISTRICTS

# code: (severity, entity_type, 中文, English), in the order of RULES.md
RULES: dict[str, tuple[str, str, str, str]] = {
    "CAMERA_DOWN": ("medium", "session", "攝像頭未覆蓋", "Cameras down during session"),
    "HEADCOUNT_SHORTFALL": ("high", "session", "人數不足", "Headcount below check-ins"),
    "CONCURRENT_CHECKIN": ("high", "trainee_sessions", "同時簽到", "Checked in to overlapping sessions"),
    "CHECKIN_BURST": ("medium", "session", "集中簽到", "Burst of check-ins from one device"),
    "WEAK_IDENTITY": ("low", "attendance", "身份核驗弱", "Weak identity check"),
    "FACE_NOT_SEEN": ("high", "session_trainee", "人臉未見", "Checked-in trainee never seen on camera"),
    "INSUFFICIENT_HOURS": ("high", "claim", "學時不足", "Claim with insufficient hours"),
    "DUPLICATE_SUBSIDY": ("high", "claim", "重複補貼", "Duplicate subsidy"),
    "CERTIFICATE_MISMATCH": ("high", "claim", "證書不符", "Certificate does not match claim"),
    "EARLY_CLAIM": ("medium", "claim", "提前申領", "Claim before class end or certificate"),
    "OUT_OF_SCOPE_CLASS": ("medium", "class", "超範圍辦班", "Class outside licence or approved scope"),
    "UNREGISTERED_SITE": ("medium", "session", "未備案場地", "Unregistered training site"),
    "CERTIFICATE_WITHOUT_PASS": ("high", "certificate", "無合格成績發證", "Certificate without a pass"),
    "ABNORMAL_PASS_RATE": ("medium", "exam", "通過率異常", "Abnormal pass rate"),
    "IDENTICAL_SCORES": ("medium", "exam", "成績雷同", "Identical scores"),
    "EXAM_DURING_TRAINING": ("high", "result", "考培時間衝突", "Exam during a training session"),
    "ASSESSOR_DOUBLE_BOOKED": ("medium", "assessor_exams", "考評員重疊", "Assessor double-booked"),
    "INVALID_ID_NUMBER": ("low", "trainee", "身份證號無效", "Invalid ID number"),
    "AGE_OUT_OF_RANGE": ("low", "enrollment", "年齡超範圍", "Age out of range"),
    "ATTENDANCE_OUTSIDE_WINDOW": ("low", "attendance", "考勤時間異常", "Attendance outside session window"),
    "SESSION_ODD_HOURS": ("low", "session", "課時異常", "Session at odd hours"),
    "SCORE_FLAG_MISMATCH": ("low", "result", "成績與結論不符", "Score and pass flag disagree"),
}

SESSION_RULES = {"CAMERA_DOWN", "HEADCOUNT_SHORTFALL", "CHECKIN_BURST", "FACE_NOT_SEEN", "UNREGISTERED_SITE",
                 "SESSION_ODD_HOURS", "CONCURRENT_CHECKIN", "WEAK_IDENTITY", "ATTENDANCE_OUTSIDE_WINDOW"}
CLAIM_RULES = {"INSUFFICIENT_HOURS", "DUPLICATE_SUBSIDY", "CERTIFICATE_MISMATCH", "EARLY_CLAIM"}
EXAM_RULES = {"ABNORMAL_PASS_RATE", "IDENTICAL_SCORES", "EXAM_DURING_TRAINING", "ASSESSOR_DOUBLE_BOOKED",
              "SCORE_FLAG_MISMATCH", "CERTIFICATE_WITHOUT_PASS"}

SEVERITIES = {"high": ("高", "High"), "medium": ("中", "Medium"), "low": ("低", "Low")}
STATUSES = {"open": ("待處理", "Open"), "confirmed": ("已確認", "Confirmed"),
            "dismissed": ("誤報", "Dismissed"), "resolved": ("已解決", "Resolved")}

# action: (allowed from statuses, to status or None, comment required, 中文, English)
ACTIONS: dict[str, tuple[frozenset[str], str | None, bool, str, str]] = {
    "confirm": (frozenset({"open"}), "confirmed", False, "確認", "Confirm"),
    "dismiss": (frozenset({"open", "confirmed"}), "dismissed", True, "誤報駁回", "Dismiss as false positive"),
    "resolve": (frozenset({"open", "confirmed"}), "resolved", False, "已解決", "Resolve"),
    "reopen": (frozenset({"confirmed", "dismissed", "resolved"}), "open", True, "重新打開", "Reopen"),
}

ALL_DISTRICTS = {CITY_CODE: "全市", **DISTRICTS}


def district_label(code: str | None) -> str:
    if code is None:
        return "全市 City"
    return f"{ALL_DISTRICTS.get(code, '?')} {code}"


def rule_label(code: str) -> str:
    r = RULES.get(code)
    return f"{r[2]} {r[3]}" if r else code
