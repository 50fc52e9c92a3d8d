"""A literal, slow, independent reading of RULES.md over simulated sources (tests only).

It reads the training platform database (latest versions), every video file and every assessment
CSV the way the contract describes them, and evaluates the 22 rules straight from their text. The
simulator's tests compare its findings with labels.csv: every positive label must be found, no
negative label may be, and nothing may be found that no label announces (the background is clean).
"""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zlib
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

LOCAL = timezone(timedelta(hours=8))
CHECK = "10X98765432"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
HEADERS = {
    "evaluation_orgs": {"機構編號": "org_id", "機構名稱": "name", "機構類型": "kind", "所在區": "district_code",
                        "備案職業": "occupation_codes", "備案日期": "registered_on", "有效期至": "valid_to"},
    "exam_sessions": {"考試批次號": "exam_id", "機構編號": "org_id", "職業編碼": "occupation_code", "等級": "skill_level",
                      "開始時間": "starts_at", "結束時間": "ends_at", "考評員": "assessor_ids", "報名人數": "registered"},
    "exam_results": {"成績編號": "result_id", "考試批次號": "exam_id", "身份證號": "id_number", "姓名": "name",
                     "理論成績": "theory_score", "實操成績": "practical_score", "是否合格": "passed", "錄入時間": "recorded_at"},
    "certificates": {"證書編號": "certificate_no", "成績編號": "result_id", "身份證號": "id_number", "姓名": "name",
                     "職業編碼": "occupation_code", "等級": "skill_level", "發證日期": "issued_on", "機構編號": "org_id"},
}
# SOURCES.md, "Script": the same headers in Simplified (the platform's current version)
SIMPLIFIED_HEADERS = {
    "機構編號": "机构编号", "機構名稱": "机构名称", "機構類型": "机构类型", "所在區": "所在区", "備案職業": "备案职业",
    "備案日期": "备案日期", "考試批次號": "考试批次号", "職業編碼": "职业编码", "等級": "等级", "開始時間": "开始时间",
    "結束時間": "结束时间", "考評員": "考评员", "報名人數": "报名人数", "成績編號": "成绩编号", "身份證號": "身份证号",
    "理論成績": "理论成绩", "實操成績": "实操成绩", "錄入時間": "录入时间", "證書編號": "证书编号", "發證日期": "发证日期"}
for _headers in HEADERS.values():
    _headers.update({SIMPLIFIED_HEADERS[h]: f for h, f in list(_headers.items()) if h in SIMPLIFIED_HEADERS})
KEYS = {"evaluation_orgs": "org_id", "exam_sessions": "exam_id", "exam_results": "result_id",
        "certificates": "certificate_no"}
EPOCH = datetime(1970, 1, 1)


def local_seconds(dt: datetime) -> int:
    return int((dt.astimezone(LOCAL).replace(tzinfo=None) - EPOCH).total_seconds())


def lsec_text(text: str) -> int | None:
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?", text)
    if not m:
        return None
    d = date.fromisoformat(m.group(1))
    return (d - date(1970, 1, 1)).days * 86400 + int(m.group(2)) * 3600 + int(m.group(3)) * 60 + int(m.group(4) or 0)


def id_valid(n: str, today: date) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", n):
        return False
    try:
        b = date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= b <= today:
        return False
    return CHECK[sum(int(c) * w for c, w in zip(n[:17], WEIGHTS, strict=True)) % 11] == n[17]


def number(text: str | None) -> Fraction | None:
    if text is None:
        return None
    t = unicodedata.normalize("NFKC", text).strip()
    if not t:
        return None
    try:
        return Fraction(t)
    except ValueError:
        return None


@dataclass
class Sources:
    db: dict[str, list[dict]] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    csv: dict[str, dict[str, dict]] = field(default_factory=dict)


def read_db(url: str) -> dict[str, list[dict]]:
    import psycopg

    out = {}
    with psycopg.connect(url) as conn:
        for t in ("occupations", "institutions", "institution_occupations", "sites", "cameras", "classes", "sessions",
                  "trainees", "enrollments", "attendance", "subsidy_claims"):
            cur = conn.execute(f"select * from {t}")
            cols = [c.name for c in cur.description]
            out[t] = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    return out


def read_video(landing: Path) -> list[dict]:
    seen, events = set(), []
    ts_re = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}")
    for f in sorted((landing / "video").glob("date=*/*.jsonl.gz")):
        raw = f.read_bytes()
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = d.decompress(raw)
        except zlib.error:
            data = b""
        for line in data.decode("utf-8", "replace").splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if not isinstance(e, dict) or e.get("type") not in ("status", "headcount", "face"):
                continue
            if not all(isinstance(e.get(k), str) for k in ("event_id", "camera_id", "ts")):
                continue
            if not ts_re.fullmatch(e["ts"]):
                continue
            if e["type"] == "status" and e.get("state") not in ("online", "offline", "occluded", "tampered"):
                continue
            if e["type"] == "headcount" and not isinstance(e.get("count"), int):
                continue
            if e["type"] == "face" and (not isinstance(e.get("score"), (int, float)) or "trainee_id" not in e):
                continue
            if e["event_id"] in seen:
                continue
            seen.add(e["event_id"])
            e["t"] = local_seconds(datetime.fromisoformat(e["ts"]))
            events.append(e)
    return events


def decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def read_assessment(landing: Path) -> dict[str, dict[str, dict]]:
    latest: dict[str, dict[str, dict]] = {k: {} for k in HEADERS}
    for folder in sorted((landing / "assessment").glob("date=*")):
        for kind in HEADERS:
            f = folder / f"{kind}.csv"
            if not f.exists():
                continue
            rows = list(csv.reader(io.StringIO(decode(f.read_bytes()))))
            header = [HEADERS[kind][h.strip()] for h in rows[0]]
            for cells in rows[1:]:
                if not cells or len(cells) != len(header):
                    continue
                row = dict(zip(header, cells, strict=True))
                if any(k in row and row[k] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?", row[k])
                       for k in ("registered_on", "valid_to", "starts_at", "ends_at", "recorded_at", "issued_on")):
                    continue    # a date in the wrong format: the row is not used
                latest[kind][row[KEYS[kind]]] = row
    return latest


def load(url: str, landing: Path) -> Sources:
    return Sources(read_db(url), read_video(landing), read_assessment(landing))


def findings(src: Sources, today: date = date(2100, 1, 1)) -> set[tuple[str, str]]:
    """(rule_code, entity_key) of every finding of the 22 rules."""
    db = src.db
    out: set[tuple[str, str]] = set()
    sessions = {s["session_id"]: s for s in db["sessions"]}
    classes = {c["class_id"]: c for c in db["classes"]}
    sites = {s["site_id"]: s for s in db["sites"]}
    trainees = {t["trainee_id"]: t for t in db["trainees"]}
    enrollments = {e["enrollment_id"]: e for e in db["enrollments"]}
    insts = {i["institution_id"]: i for i in db["institutions"]}
    for s in sessions.values():
        s["st"], s["en"] = local_seconds(s["starts_at"]), local_seconds(s["ends_at"])
    site_cams = defaultdict(list)
    for c in db["cameras"]:
        site_cams[c["site_id"]].append(c["camera_id"])
    ev_by_cam: dict[str, list[dict]] = defaultdict(list)
    for e in src.events:
        ev_by_cam[e["camera_id"]].append(e)
    for lst in ev_by_cam.values():
        lst.sort(key=lambda e: e["t"])
    att = [dict(a, t=local_seconds(a["captured_at"])) for a in db["attendance"]]
    att_by_session = defaultdict(list)
    for a in att:
        att_by_session[a["session_id"]].append(a)
    checked = {sid: {a["trainee_id"] for a in rows if a["event"] == "check_in"} for sid, rows in att_by_session.items()}

    def held_onsite(s: dict) -> bool:
        return s["status"] == "held" and s["delivery"] == "onsite"

    cam_times = {cam: [e["t"] for e in lst] for cam, lst in ev_by_cam.items()}

    def events_in_window(s: dict) -> list[dict]:
        """Events of the session's site cameras with starts_at <= ts < ends_at."""
        out = []
        for c in site_cams.get(s["site_id"], []):
            ts = cam_times.get(c, [])
            out.extend(ev_by_cam[c][bisect_left(ts, s["st"]): bisect_left(ts, s["en"])] if ts else [])
        return out

    # CAMERA_DOWN

    cam_index = {}
    for cam, lst in ev_by_cam.items():
        ts = [e["t"] for e in lst]
        st = [(e["t"], e["state"]) for e in lst if e["type"] == "status"]
        cam_index[cam] = (ts, [t for t, _ in st], [x for _, x in st])

    def up(cam: str, t: int) -> bool:
        if cam not in cam_index:
            return False
        ts, sts, states = cam_index[cam]
        i = bisect_right(sts, t)
        if i == 0 or states[i - 1] != "online":
            return False
        j = bisect_right(ts, t)
        return j > 0 and ts[j - 1] > t - 600

    for s in sessions.values():
        if not held_onsite(s):
            continue
        n = (s["en"] - s["st"]) // 60 if s["en"] > s["st"] else 0
        if n <= 0:
            continue
        cams = site_cams.get(s["site_id"], [])
        unc = sum(1 for k in range(n) if not any(up(c, s["st"] + 60 * k) for c in cams))
        if unc * 10 > n:
            out.add(("CAMERA_DOWN", s["session_id"]))
    # HEADCOUNT_SHORTFALL, FACE_NOT_SEEN, UNREGISTERED_SITE
    for s in sessions.values():
        if not held_onsite(s):
            continue
        evs = events_in_window(s)
        c = checked.get(s["session_id"], set())
        if len(c) >= 5:
            h = max([e["count"] for e in evs if e["type"] == "headcount"] or [0])
            if h * 10 < 8 * len(c):
                out.add(("HEADCOUNT_SHORTFALL", s["session_id"]))
        faces = [e for e in evs if e["type"] == "face"]
        if faces:
            for t in c:
                if not any(e.get("trainee_id") == t and e["score"] >= 0.75 for e in faces):
                    out.add(("FACE_NOT_SEEN", f"{s['session_id']}|{t}"))
        site = sites.get(s["site_id"])
        cls = classes.get(s["class_id"])
        if site is None or not site["registered"] or (cls is not None and site["institution_id"] != cls["institution_id"]):
            out.add(("UNREGISTERED_SITE", s["session_id"]))
    # CONCURRENT_CHECKIN
    per_trainee = defaultdict(set)
    for sid, ts in checked.items():
        s = sessions.get(sid)
        if s and s["status"] != "cancelled":
            for t in ts:
                per_trainee[t].add(sid)
    for t, sids in per_trainee.items():
        lst = sorted(sids)
        for i, a in enumerate(lst):
            for b in lst[i + 1:]:
                A, B = sessions[a], sessions[b]
                if A["st"] < B["en"] and B["st"] < A["en"]:
                    out.add(("CONCURRENT_CHECKIN", f"{t}|{a}|{b}"))
    # CHECKIN_BURST
    for sid, rows in att_by_session.items():
        by_dev = defaultdict(list)
        for a in rows:
            if a["event"] == "check_in":
                by_dev[a["device_id"]].append(a["t"])
        for ts in by_dev.values():
            ts.sort()
            if any(ts[i + 5] - ts[i] <= 30 for i in range(len(ts) - 5)):
                out.add(("CHECKIN_BURST", sid))
    # WEAK_IDENTITY, ATTENDANCE_OUTSIDE_WINDOW
    for a in att:
        s = sessions.get(a["session_id"])
        if s is None:
            continue
        cls = classes.get(s["class_id"])
        if cls is not None and cls["subsidised"] and (a["method"] != "face" or a["face_score"] is None
                                                       or a["face_score"] < Fraction(3, 4)):
            out.add(("WEAK_IDENTITY", str(a["attendance_id"])))
        bad = s["status"] == "cancelled"
        if a["event"] == "check_in" and (a["t"] < s["st"] - 1800 or a["t"] >= s["en"]):
            bad = True
        if a["event"] == "check_out" and (a["t"] <= s["st"] or a["t"] > s["en"] + 1800):
            bad = True
        if bad:
            out.add(("ATTENDANCE_OUTSIDE_WINDOW", str(a["attendance_id"])))
    # SESSION_ODD_HOURS
    for s in sessions.values():
        if s["status"] != "held":
            continue
        sd, ss = divmod(s["st"], 86400)
        ed, es = divmod(s["en"], 86400)
        if ss < 7 * 3600 or ed > sd or es > 22 * 3600 or s["en"] - s["st"] > 8 * 3600 or s["en"] <= s["st"]:
            out.add(("SESSION_ODD_HOURS", s["session_id"]))
    # claims
    certs = src.csv["certificates"]
    results = src.csv["exam_results"]
    exams = src.csv["exam_sessions"]
    live = [c for c in db["subsidy_claims"] if c["status"] != "rejected"]
    class_sessions = defaultdict(list)
    for s in sessions.values():
        if s["status"] == "held":
            class_sessions[s["class_id"]].append(s)
    for c in live:
        e = enrollments.get(c["enrollment_id"])
        cls = classes.get(e["class_id"]) if e else None
        if e and cls:
            secs = 0
            for s in class_sessions[cls["class_id"]]:
                rows = [a for a in att_by_session.get(s["session_id"], []) if a["trainee_id"] == e["trainee_id"]]
                ins = [a["t"] for a in rows if a["event"] == "check_in"]
                outs = [a["t"] for a in rows if a["event"] == "check_out"]
                if ins and outs and max(outs) > min(ins):
                    secs += max(0, min(max(outs), s["en"]) - max(min(ins), s["st"]))
            if Fraction(secs, 3600) < Fraction(4, 5) * Fraction(str(cls["planned_hours"])):
                out.add(("INSUFFICIENT_HOURS", c["claim_id"]))
        tr = trainees.get(c["trainee_id"])
        cert = certs.get(c["certificate_no"]) if c["certificate_no"] else None
        if cert is None or (tr is not None and cert["id_number"] != tr["id_number"]) or (
                cls is not None and (cert["occupation_code"] != cls["occupation_code"]
                                     or number(cert["skill_level"]) != cls["skill_level"])):
            out.add(("CERTIFICATE_MISMATCH", c["claim_id"]))
        cd = c["claimed_at"].astimezone(LOCAL).date()
        if (cls is not None and cd < cls["end_date"]) or (cert is not None and cd < date.fromisoformat(cert["issued_on"])):
            out.add(("EARLY_CLAIM", c["claim_id"]))
    by_person = defaultdict(list)
    for c in live:
        tr = trainees.get(c["trainee_id"])
        if tr:
            by_person[tr["id_number"]].append(c)
    for claims in by_person.values():
        claims.sort(key=lambda c: (c["claimed_at"], c["claim_id"]))
        for i, c in enumerate(claims):
            e = enrollments.get(c["enrollment_id"])
            cls = classes.get(e["class_id"]) if e else None
            year = c["claimed_at"].astimezone(LOCAL).year
            for p in claims[:i]:
                pe = enrollments.get(p["enrollment_id"])
                pc = classes.get(pe["class_id"]) if pe else None
                if cls and pc and (pc["occupation_code"], pc["skill_level"]) == (cls["occupation_code"], cls["skill_level"]):
                    out.add(("DUPLICATE_SUBSIDY", c["claim_id"]))
            if sum(1 for p in claims[: i + 1] if p["claimed_at"].astimezone(LOCAL).year == year) >= 4:
                out.add(("DUPLICATE_SUBSIDY", c["claim_id"]))
    # OUT_OF_SCOPE_CLASS
    scopes = defaultdict(list)
    for r in db["institution_occupations"]:
        scopes[(r["institution_id"], r["occupation_code"])].append(r)
    for c in classes.values():
        if c["status"] == "cancelled":
            continue
        inst = insts.get(c["institution_id"])
        if inst is not None and not inst["license_valid_from"] <= c["start_date"] <= inst["license_valid_to"]:
            out.add(("OUT_OF_SCOPE_CLASS", c["class_id"]))
        if not any(r["approved_from"] <= c["start_date"] <= r["approved_to"]
                   for r in scopes[(c["institution_id"], c["occupation_code"])]):
            out.add(("OUT_OF_SCOPE_CLASS", c["class_id"]))
    # assessment rules
    for no, cert in certs.items():
        r = results.get(cert["result_id"]) if cert["result_id"] else None
        ex = exams.get(r["exam_id"]) if r else None
        th, pr = (number(r["theory_score"]), number(r["practical_score"])) if r else (None, None)
        if r is None or r["passed"] != "合格" or any(x is not None and x < 60 for x in (th, pr)) or \
                r["id_number"] != cert["id_number"] or (ex is not None and (
                    ex["occupation_code"] != cert["occupation_code"]
                    or number(ex["skill_level"]) != number(cert["skill_level"]))):
            out.add(("CERTIFICATE_WITHOUT_PASS", no))
    res_by_exam = defaultdict(list)
    for r in results.values():
        res_by_exam[r["exam_id"]].append(r)
    ex_start = {k: lsec_text(e["starts_at"]) for k, e in exams.items()}
    ex_end = {k: lsec_text(e["ends_at"]) for k, e in exams.items()}
    for k, ex in exams.items():
        rs = res_by_exam.get(k, [])
        n = len(rs)
        if n >= 20:
            p = Fraction(sum(r["passed"] == "合格" for r in rs), n)
            if p >= Fraction(95, 100):
                pool = [r for k2, e2 in exams.items() if k2 != k and e2["occupation_code"] == ex["occupation_code"]
                        and number(e2["skill_level"]) == number(ex["skill_level"])
                        and ex_start[k] - 365 * 86400 <= ex_start[k2] < ex_start[k] for r in res_by_exam.get(k2, [])]
                if len(pool) >= 100:
                    b = Fraction(sum(r["passed"] == "合格" for r in pool), len(pool))
                    if p - b >= Fraction(1, 4):
                        out.add(("ABNORMAL_PASS_RATE", k))
        if n >= 10:
            cnt = defaultdict(int)
            for r in rs:
                cnt[(number(r["theory_score"]), number(r["practical_score"]))] += 1
            if max(cnt.values()) * 10 >= 3 * n:
                out.add(("IDENTICAL_SCORES", k))
    tids_of = defaultdict(list)
    for t in trainees.values():
        tids_of[t["id_number"]].append(t["trainee_id"])
    for rid, r in results.items():
        st, en = ex_start.get(r["exam_id"]), ex_end.get(r["exam_id"])
        if st is not None:
            for t in tids_of.get(r["id_number"], []):
                for sid in per_trainee.get(t, ()):
                    s = sessions[sid]
                    if s["st"] < en and st < s["en"]:
                        out.add(("EXAM_DURING_TRAINING", rid))
        if not id_valid(r["id_number"], today):
            out.add(("INVALID_ID_NUMBER", rid))
        th, pr = number(r["theory_score"]), number(r["practical_score"])
        if th is None or pr is None or not (0 <= th <= 100 and 0 <= pr <= 100) or \
                (r["passed"] == "合格" and (th < 60 or pr < 60)) or (r["passed"] == "不合格" and th >= 60 and pr >= 60):
            out.add(("SCORE_FLAG_MISMATCH", rid))
    by_assessor = defaultdict(list)
    for k, ex in exams.items():
        for a in ex["assessor_ids"].split(";"):
            if a:
                by_assessor[a].append(k)
    for a, ks in by_assessor.items():
        ks.sort()
        for i, x in enumerate(ks):
            for y in ks[i + 1:]:
                if ex_start[x] < ex_end[y] and ex_start[y] < ex_end[x]:
                    out.add(("ASSESSOR_DOUBLE_BOOKED", f"{a}|{x}|{y}"))
    for t in trainees.values():
        if not id_valid(t["id_number"], today):
            out.add(("INVALID_ID_NUMBER", t["trainee_id"]))
    for e in enrollments.values():
        t, c = trainees.get(e["trainee_id"]), classes.get(e["class_id"])
        if t and c:
            b, s = t["birth_date"], c["start_date"]
            age = s.year - b.year - ((s.month, s.day) < (b.month, b.day))
            if age < 16 or age >= 65:
                out.add(("AGE_OUT_OF_RANGE", e["enrollment_id"]))
    return out


def read_labels(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def compare(found: set[tuple[str, str]], labels: list[dict]) -> dict[str, list]:
    pos = {(r["rule_code"], r["entity_key"]) for r in labels if r["must_fire"] == "true"}
    neg = {(r["rule_code"], r["entity_key"]) for r in labels if r["must_fire"] == "false"}
    return {"missed_positives": sorted(pos - found), "fired_negatives": sorted(neg & found),
            "unlabelled_findings": sorted(found - pos - neg)}


if __name__ == "__main__":   # python tests/simulator/oracle.py URL LANDING LABELS_DIR
    import sys

    src = load(sys.argv[1], Path(sys.argv[2]))
    res = compare(findings(src), read_labels(Path(sys.argv[3]) / "labels.csv"))
    for k, v in res.items():
        print(k, len(v), v[:30])
