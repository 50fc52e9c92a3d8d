"""The evidence behind an alert, read from the raw layer (stable, loader-owned) and drawn.

Runs inside the user's transaction (already ``SET LOCAL ROLE``): the alert itself was read under
row-level security first, so a district user only ever reaches evidence of its own alerts. Every
block runs in a savepoint: missing tables or rows give a notice, never an error page.
Only masked ID numbers are shown (``id_masked``); names and plain numbers live in ``pii`` and are
never granted to the application.
"""
from __future__ import annotations

import bisect
import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg

from supervision.review import charts
from supervision.review.catalogue import CLAIM_RULES, EXAM_RULES
from supervision.review.i18n import N_, fmt_date, fmt_datetime, fmt_percent, value_label
from supervision.review.i18n import gettext as _

log = logging.getLogger(__name__)
FACE_MIN = 0.75
# 機構類型 as the warehouse keeps it (the contract table's form, whatever script it arrived in) -> label
ORG_KINDS = {"社會評價組織": N_("Social evaluation organisation"), "用人單位": N_("Employer"), "院校": N_("College")}


def org_kind_label(kind: str | None) -> str:
    return _(ORG_KINDS[kind]) if kind in ORG_KINDS else (kind or "")


def _safe(conn, fn, *args):
    try:
        with conn.transaction():
            return fn(conn, *args)
    except psycopg.Error as err:
        log.warning("evidence not available: %s", err)
        return {"error": _("Evidence not available: %(error)s") % {"error": type(err).__name__}}


def for_alert(conn, alert: dict) -> list[dict]:
    """Evidence blocks for the alert's page, in display order."""
    rule, etype = alert["rule_code"], alert["entity_type"]
    parts = alert["entity_key"].split("|")
    blocks: list[dict] = []
    if etype in ("session", "session_trainee"):
        blocks.append(_safe(conn, session_block, parts[0], parts[1] if etype == "session_trainee" else None, None))
    elif etype == "trainee_sessions" and len(parts) == 3:
        for sid in parts[1:]:
            blocks.append(_safe(conn, session_block, sid, parts[0], None))
    elif etype == "attendance":
        blocks.append(_safe(conn, attendance_block, parts[0]))
    elif etype == "claim" or rule in CLAIM_RULES:
        blocks.append(_safe(conn, claim_block, parts[0]))
    elif etype in ("exam", "result", "certificate", "assessor_exams") or rule in EXAM_RULES:
        blocks.append(_safe(conn, exam_block, etype, parts))
    elif etype == "class":
        blocks.append(_safe(conn, class_block, parts[0]))
    elif etype in ("enrollment", "trainee"):
        blocks.append(_safe(conn, person_block, etype, parts[0]))
    return [b for b in blocks if b]


# --- sessions -------------------------------------------------------------------------------------

def _coverage(starts_at: datetime, ends_at: datetime, cameras: list[str], prior: dict[str, str | None],
              events: list[dict]) -> tuple[list[dict], dict[str, list[bool]]]:
    """CAMERA_DOWN's minutes: camera c is up at t if its latest status event with ts <= t is 'online'
    and it sent some event with ts in (t - 10 min, t]; minute t is covered if any camera is up."""
    n = int((ends_at - starts_at).total_seconds() // 60)
    by_cam_all: dict[str, list[datetime]] = {c: [] for c in cameras}
    by_cam_status: dict[str, list[tuple[datetime, str]]] = {c: [] for c in cameras}
    for e in events:
        if e["camera_id"] in by_cam_all:
            by_cam_all[e["camera_id"]].append(e["ts"])
            if e["type"] == "status":
                by_cam_status[e["camera_id"]].append((e["ts"], e["state"]))
    up: dict[str, list[bool]] = {}
    for c in cameras:
        ts_all = sorted(by_cam_all[c])
        st = sorted(by_cam_status[c])
        st_ts = [s[0] for s in st]
        row = []
        for k in range(n):
            t = starts_at + timedelta(minutes=k)
            i = bisect.bisect_right(st_ts, t)
            state = st[i - 1][1] if i else prior.get(c)
            j = bisect.bisect_right(ts_all, t)
            recent = j > 0 and ts_all[j - 1] > t - timedelta(minutes=10)
            row.append(state == "online" and recent)
        up[c] = row
    minutes = []
    for k in range(n):
        cams_up = sum(1 for c in cameras if up[c][k])
        minutes.append({"t": starts_at + timedelta(minutes=k), "covered": cams_up > 0, "cameras_up": cams_up})
    return minutes, up


def session_block(conn, session_id: str, trainee_id: str | None, highlight_attendance: int | None) -> dict:
    s = conn.execute(
        """select s.session_id, s.class_id, s.site_id, s.starts_at, s.ends_at, s.delivery, s.status,
                  c.institution_id, c.occupation_code, c.skill_level, c.subsidised, c.planned_hours,
                  i.name as institution_name, si.address, si.registered, si.institution_id as site_institution_id,
                  o.name as occupation_name
           from raw_training.sessions s
           left join raw_training.classes c on c.class_id = s.class_id
           left join raw_training.institutions i on i.institution_id = c.institution_id
           left join raw_training.sites si on si.site_id = s.site_id
           left join raw_training.occupations o on o.occupation_code = c.occupation_code
           where s.session_id = %s""", (session_id,)).fetchone()
    if s is None:
        return {"kind": "missing", "title": _("Session %(id)s") % {"id": session_id}, "notice": _("Not in the raw data.")}
    starts, ends = s["starts_at"], s["ends_at"]
    cameras = [r["camera_id"] for r in conn.execute(
        "select camera_id from raw_training.cameras where site_id = %s order by camera_id", (s["site_id"],))]
    prior = {r["cam"]: r["state"] for r in conn.execute(
        """select c.cam, e.state from unnest(%s::text[]) c(cam)
           cross join lateral (select state from raw_video.events ev
                               where ev.camera_id = c.cam and ev.type = 'status' and ev.ts <= %s
                               order by ev.ts desc limit 1) e""", (cameras, starts))}
    events = conn.execute(
        """select camera_id, ts, type, state, count, trainee_id, score from raw_video.events
           where camera_id = any(%s) and ts > %s and ts <= %s order by ts limit 200000""",
        (cameras, starts - timedelta(minutes=10), ends)).fetchall() if cameras else []
    attendance = conn.execute(
        """select a.attendance_id, a.trainee_id, t.id_masked, a.event, a.method, a.device_id, a.captured_at,
                  a.face_score
           from raw_training.attendance a left join raw_training.trainees t on t.trainee_id = a.trainee_id
           where a.session_id = %s order by a.captured_at, a.attendance_id limit 5000""", (session_id,)).fetchall()
    minutes, cam_up = _coverage(starts, ends, cameras, prior, events)
    in_window = [e for e in events if starts <= e["ts"] < ends]
    # headcount per minute: the largest count any of the site's cameras sent in that minute
    hc: dict[datetime, int] = {}
    for e in in_window:
        if e["type"] == "headcount" and e["count"] is not None:
            m = e["ts"].replace(second=0, microsecond=0)
            hc[m] = max(hc.get(m, 0), e["count"])
    headcounts = sorted(hc.items())
    first_in: dict[str, datetime] = {}
    for a in attendance:
        if a["event"] == "check_in":
            first_in[a["trainee_id"]] = min(first_in.get(a["trainee_id"], a["captured_at"]), a["captured_at"])
    checked_in = len(first_in)
    best_face: dict[str, float] = {}
    face_events = 0
    for e in in_window:
        if e["type"] == "face":
            face_events += 1
            if e["trainee_id"]:
                best_face[e["trainee_id"]] = max(best_face.get(e["trainee_id"], 0.0), float(e["score"] or 0))
    highlight = None
    for a in attendance:
        a["seen_on_camera"] = best_face.get(a["trainee_id"])
        a["is_subject"] = (trainee_id is not None and a["trainee_id"] == trainee_id) or \
            (highlight_attendance is not None and a["attendance_id"] == highlight_attendance)
        if highlight_attendance is not None and a["attendance_id"] == highlight_attendance:
            highlight = a["captured_at"]
    uncovered = sum(1 for m in minutes if not m["covered"])
    max_hc = max([0, *(c for _t, c in headcounts)])
    chart = charts.session_timeline(f"session-chart-{session_id}", starts, ends, minutes, cameras, cam_up,
                                    headcounts, list(first_in.values()), checked_in, highlight)
    level = _("level %(n)s")
    facts = [
        (_("Session"), f"{session_id} · {value_label(s['status'])} · {value_label(s['delivery'])}"),
        (_("Window"), f"{fmt_datetime(starts)} – {fmt_datetime(ends)} ({(ends - starts).total_seconds() / 3600:.2f} h)"),
        (_("Institution"), f"{s['institution_name'] or '?'} ({s['institution_id'] or '?'})"),
        (_("Class"), f"{s['class_id']} · {s['occupation_name'] or s['occupation_code'] or '?'} "
                     + level % {"n": s["skill_level"] or "?"}),
        (_("Site"), f"{s['site_id']} · {s['address'] or _('unknown site')} · "
                    + (_("registered") if s["registered"] else _("NOT registered") if s["registered"] is not None else "?")
                    + ("" if s["site_institution_id"] in (None, s["institution_id"]) else
                       " · " + _("belongs to another institution, %(id)s") % {"id": s["site_institution_id"]})),
        (_("Cameras"), ", ".join(cameras) or _("none")),
        (_("Uncovered minutes"), f"{uncovered} / {len(minutes)}"
                                 + (f" ({fmt_percent(uncovered / len(minutes), 0)})" if minutes else "")),
        (_("Checked in (C)"), str(checked_in)),
        (_("Largest headcount (H)"), f"{max_hc}" + (" = " + _("%(p)s of C") % {"p": fmt_percent(max_hc / checked_in, 0)}
                                                    if checked_in else "")),
        (_("Face events in the window"), str(face_events)),
    ]
    return {"kind": "session", "title": _("Session %(id)s") % {"id": session_id}, "facts": facts, "chart": chart,
            "attendance": attendance, "session_id": session_id}


def attendance_block(conn, attendance_id: str) -> dict:
    if not attendance_id.isdigit():
        return {"kind": "missing", "title": _("Attendance %(id)s") % {"id": attendance_id},
                "notice": _("Not a valid attendance id.")}
    row = conn.execute("select session_id from raw_training.attendance where attendance_id = %s",
                       (int(attendance_id),)).fetchone()
    if row is None:
        return {"kind": "missing", "title": _("Attendance %(id)s") % {"id": attendance_id},
                "notice": _("Not in the raw data.")}
    block = session_block(conn, row["session_id"], None, int(attendance_id))
    block["title"] = _("Attendance %(id)s") % {"id": attendance_id} + " · " + block["title"]
    return block


# --- claims -----------------------------------------------------------------------------------------

def claim_block(conn, claim_id: str) -> dict:
    c = conn.execute(
        """select cl.claim_id, cl.enrollment_id, cl.trainee_id, cl.certificate_no, cl.amount_cny, cl.claimed_at,
                  cl.status, en.class_id, en.status as enrollment_status, en.completed_on,
                  k.planned_hours, k.occupation_code, k.skill_level, k.start_date, k.end_date, k.institution_id,
                  i.name as institution_name, t.id_masked, t.person_key,
                  ce.certificate_no as cert_found, ce.occupation_code as cert_occupation,
                  ce.skill_level as cert_level, ce.issued_on as cert_issued_on, ce.person_key as cert_person_key
           from raw_training.subsidy_claims cl
           left join raw_training.enrollments en on en.enrollment_id = cl.enrollment_id
           left join raw_training.classes k on k.class_id = en.class_id
           left join raw_training.institutions i on i.institution_id = k.institution_id
           left join raw_training.trainees t on t.trainee_id = cl.trainee_id
           left join raw_assessment.certificates ce on ce.certificate_no = cl.certificate_no
           where cl.claim_id = %s""", (claim_id,)).fetchone()
    if c is None:
        return {"kind": "missing", "title": _("Claim %(id)s") % {"id": claim_id}, "notice": _("Not in the raw data.")}
    sessions = conn.execute(
        """select session_id, starts_at, ends_at from raw_training.sessions
           where class_id = %s and status = 'held' order by starts_at, session_id""", (c["class_id"],)).fetchall()
    att = conn.execute(
        """select session_id, event, captured_at from raw_training.attendance
           where trainee_id = %s and session_id = any(%s)""",
        (c["trainee_id"], [s["session_id"] for s in sessions])).fetchall()
    by_s: dict[str, dict[str, list[datetime]]] = {}
    for a in att:
        by_s.setdefault(a["session_id"], {}).setdefault(a["event"], []).append(a["captured_at"])
    rows = []
    for s in sessions:
        ev = by_s.get(s["session_id"], {})
        ins, outs = ev.get("check_in", []), ev.get("check_out", [])
        hours = 0.0
        if ins and outs and max(outs) > min(ins):
            lo, hi = max(min(ins), s["starts_at"]), min(max(outs), s["ends_at"])
            hours = max((hi - lo).total_seconds(), 0) / 3600
        rows.append({"session_id": s["session_id"], "starts_at": s["starts_at"],
                     "session_hours": (s["ends_at"] - s["starts_at"]).total_seconds() / 3600,
                     "attended_hours": hours, "first_in": min(ins) if ins else None,
                     "last_out": max(outs) if outs else None})
    planned = float(c["planned_hours"] or 0)
    attended = sum(r["attended_hours"] for r in rows)
    chart = charts.hours_chart(f"hours-chart-{claim_id}", rows, planned)
    others = conn.execute(
        """select cl.claim_id, cl.claimed_at, cl.status, cl.amount_cny, k.occupation_code, k.skill_level,
                  cl.certificate_no
           from raw_training.trainees t
           join raw_training.subsidy_claims cl on cl.trainee_id = t.trainee_id
           left join raw_training.enrollments en on en.enrollment_id = cl.enrollment_id
           left join raw_training.classes k on k.class_id = en.class_id
           where t.person_key = %s order by cl.claimed_at, cl.claim_id limit 50""",
        (c["person_key"],)).fetchall() if c["person_key"] else []
    level = _("level %(n)s")
    cert = (_("unknown or missing") if c["cert_found"] is None else
            f"{c['cert_found']} · {c['cert_occupation']} " + level % {"n": c["cert_level"]} + " · "
            + _("issued %(date)s") % {"date": fmt_date(c["cert_issued_on"])}
            + (" · " + _("another person") if c["cert_person_key"] != c["person_key"] else " · " + _("same person")))
    facts = [
        (_("Claim"), f"{claim_id} · {value_label(c['status'])} · ¥{c['amount_cny']} · {fmt_datetime(c['claimed_at'])}"),
        (_("Trainee"), f"{c['trainee_id']} · {c['id_masked'] or '?'}"),
        (_("Institution"), f"{c['institution_name'] or '?'} ({c['institution_id'] or '?'})"),
        (_("Class"), f"{c['class_id']} · {c['occupation_code']} " + level % {"n": c["skill_level"]} + " · "
                     f"{fmt_date(c['start_date'])} – {fmt_date(c['end_date'])}"),
        (_("Planned hours"), f"{planned:g} h (80% = {0.8 * planned:g} h)"),
        (_("Attended hours"), _("%(h)s h in %(n)s held sessions") % {"h": f"{attended:.2f}", "n": len(rows)}
                              + (" = " + _("%(p)s of planned") % {"p": fmt_percent(attended / planned, 0)}
                                 if planned else "")),
        (_("Certificate"), f"{c['certificate_no'] or '—'}: {cert}"),
    ]
    return {"kind": "claim", "title": _("Claim %(id)s") % {"id": claim_id}, "facts": facts, "chart": chart,
            "sessions": rows, "claims": others, "claim_id": claim_id}


# --- exams ------------------------------------------------------------------------------------------

def _bins(values: list[float], nbins: int = 10) -> list[float]:
    counts = [0] * nbins
    vals = [v for v in values if v is not None and 0 <= v <= 100]
    for v in vals:
        counts[min(int(v // (100 / nbins)), nbins - 1)] += 1
    n = len(vals) or 1
    return [c / n for c in counts]


def exam_block(conn, etype: str, parts: list[str]) -> dict:
    exam_id, result_id, marker = None, None, None
    if etype == "exam":
        exam_id = parts[0]
    elif etype == "assessor_exams" and len(parts) == 3:
        exam_id = parts[1]
    elif etype == "result":
        result_id = parts[0]
    elif etype == "certificate":
        r = conn.execute("select result_id from raw_assessment.certificates where certificate_no = %s",
                         (parts[0],)).fetchone()
        result_id = r["result_id"] if r else None
    subject = None
    if result_id:
        subject = conn.execute(
            """select result_id, exam_id, person_key, id_masked, theory_score, practical_score, passed
               from raw_assessment.exam_results where result_id = %s""", (result_id,)).fetchone()
        if subject:
            exam_id = subject["exam_id"]
            marker = float(subject["theory_score"]) if subject["theory_score"] is not None else None
    if not exam_id:
        return {"kind": "missing", "title": _("Exam"), "notice": _("The exam is not in the raw data.")}
    ex = conn.execute(
        """select e.exam_id, e.org_id, e.occupation_code, e.skill_level, e.starts_at, e.ends_at, e.assessor_ids,
                  e.registered, o.name as org_name, o.kind as org_kind, oc.name as occupation_name
           from raw_assessment.exam_sessions e
           left join raw_assessment.evaluation_orgs o on o.org_id = e.org_id
           left join raw_training.occupations oc on oc.occupation_code = e.occupation_code
           where e.exam_id = %s""", (exam_id,)).fetchone()
    if ex is None:
        return {"kind": "missing", "title": _("Exam %(id)s") % {"id": exam_id}, "notice": _("Not in the raw data.")}
    results = conn.execute(
        """select result_id, id_masked, theory_score, practical_score, passed from raw_assessment.exam_results
           where exam_id = %s order by result_id limit 5000""", (exam_id,)).fetchall()
    base = conn.execute(
        """select r.theory_score, r.practical_score, r.passed
           from raw_assessment.exam_sessions e join raw_assessment.exam_results r on r.exam_id = e.exam_id
           where e.occupation_code = %s and e.skill_level is not distinct from %s and e.exam_id <> %s
             and e.starts_at >= %s - interval '365 days' and e.starts_at < %s
           limit 200000""",
        (ex["occupation_code"], ex["skill_level"], exam_id, ex["starts_at"], ex["starts_at"])).fetchall() \
        if ex["starts_at"] else []
    th = [float(r["theory_score"]) for r in results if r["theory_score"] is not None]
    pr = [float(r["practical_score"]) for r in results if r["practical_score"] is not None]
    bth = [float(r["theory_score"]) for r in base if r["theory_score"] is not None]
    bpr = [float(r["practical_score"]) for r in base if r["practical_score"] is not None]
    n = len(results)
    p = sum(1 for r in results if r["passed"] == "合格") / n if n else None
    bn = len(base)
    b = sum(1 for r in base if r["passed"] == "合格") / bn if bn else None
    pairs: dict[tuple, int] = {}
    for r in results:
        pairs[(r["theory_score"], r["practical_score"])] = pairs.get((r["theory_score"], r["practical_score"]), 0) + 1
    top_pair = max(pairs.items(), key=lambda kv: kv[1]) if pairs else None
    chart_t = charts.score_histogram(f"score-chart-theory-{exam_id}", _("Theory score distribution"),
                                     _bins(th), _bins(bth) if bth else None, len(th), len(bth), marker)
    pmark = float(subject["practical_score"]) if subject and subject["practical_score"] is not None else None
    chart_p = charts.score_histogram(f"score-chart-practical-{exam_id}", _("Practical score distribution"),
                                     _bins(pr), _bins(bpr) if bpr else None, len(pr), len(bpr), pmark)
    facts = [
        (_("Exam"), f"{exam_id} · {ex['occupation_name'] or ex['occupation_code']} "
                    + _("level %(n)s") % {"n": ex["skill_level"]}),
        (_("Evaluation org"), f"{ex['org_name'] or '?'} ({ex['org_id']}) · {org_kind_label(ex['org_kind'])}"),
        (_("Window"), f"{fmt_datetime(ex['starts_at'])} – {ex['ends_at']:%H:%M}"
                      if ex["starts_at"] and ex["ends_at"] else "?"),
        (_("Assessors"), ", ".join(ex["assessor_ids"] or []) or "—"),
        (_("Pass rate"), (_("%(p)s of %(n)s") % {"p": fmt_percent(p), "n": n} if p is not None else "—")
         + (" " + _("against a baseline of %(p)s of %(n)s results (same occupation and level, 365 days before)")
            % {"p": fmt_percent(b), "n": bn} if b is not None else " · " + _("no baseline"))),
        (_("Most common score pair"), f"{top_pair[0][0]} / {top_pair[0][1]}: "
         + _("%(k)s of %(n)s") % {"k": top_pair[1], "n": n} + f" ({fmt_percent(top_pair[1] / n, 0)})"
         if top_pair and n else "—"),
    ]
    if subject:
        facts.insert(0, (_("Candidate"), f"{subject['result_id']} · {subject['id_masked']} · "
                         + _("theory %(t)s · practical %(p)s") % {"t": subject["theory_score"],
                                                                  "p": subject["practical_score"]}
                         + f" · {subject['passed']}"))
    overlapping: list[Any] = []
    if etype == "result" and subject:
        overlapping = conn.execute(
            """select distinct s.session_id, s.starts_at, s.ends_at, s.status, k.institution_id
               from raw_training.trainees t
               join raw_training.attendance a on a.trainee_id = t.trainee_id and a.event = 'check_in'
               join raw_training.sessions s on s.session_id = a.session_id
               left join raw_training.classes k on k.class_id = s.class_id
               where t.person_key = %s and s.status <> 'cancelled' and s.starts_at < %s and %s < s.ends_at
               order by s.starts_at limit 20""",
            (subject["person_key"], ex["ends_at"], ex["starts_at"])).fetchall() if ex["starts_at"] else []
    return {"kind": "exam", "title": _("Exam %(id)s") % {"id": exam_id}, "facts": facts, "chart": chart_t, "chart2": chart_p,
            "results": results[:300], "results_total": n, "overlapping": overlapping, "exam_id": exam_id,
            "subject_result": result_id}


# --- classes, enrollments, trainees ------------------------------------------------------------------

def class_block(conn, class_id: str) -> dict:
    k = conn.execute(
        """select k.class_id, k.institution_id, k.occupation_code, k.skill_level, k.programme, k.subsidised,
                  k.planned_hours, k.start_date, k.end_date, k.status, i.name, i.license_valid_from,
                  i.license_valid_to
           from raw_training.classes k left join raw_training.institutions i on i.institution_id = k.institution_id
           where k.class_id = %s""", (class_id,)).fetchone()
    if k is None:
        return {"kind": "missing", "title": _("Class %(id)s") % {"id": class_id}, "notice": _("Not in the raw data.")}
    scopes = conn.execute(
        """select occupation_code, approved_from, approved_to from raw_training.institution_occupations
           where institution_id = %s and occupation_code = %s order by approved_from""",
        (k["institution_id"], k["occupation_code"])).fetchall()
    facts = [(_("Class"), f"{class_id} · {k['occupation_code']} " + _("level %(n)s") % {"n": k["skill_level"]}
              + f" · {value_label(k['programme'])} · {value_label(k['status'])}"),
             (_("Start – end"), f"{fmt_date(k['start_date'])} – {fmt_date(k['end_date'])}"),
             (_("Institution"), f"{k['name'] or '?'} ({k['institution_id']})"),
             (_("Licence"), f"{fmt_date(k['license_valid_from'])} – {fmt_date(k['license_valid_to'])}"),
             (_("Approved scope"), "; ".join(f"{fmt_date(s['approved_from'])} – {fmt_date(s['approved_to'])}"
                                             for s in scopes) or _("none"))]
    return {"kind": "facts", "title": _("Class %(id)s") % {"id": class_id}, "facts": facts}


def person_block(conn, etype: str, key: str) -> dict:
    if etype == "enrollment":
        e = conn.execute(
            """select en.enrollment_id, en.class_id, en.status, k.start_date, t.trainee_id, t.id_masked, t.birth_date,
                      date_part('year', age(k.start_date, t.birth_date))::int as age
               from raw_training.enrollments en
               left join raw_training.classes k on k.class_id = en.class_id
               left join raw_training.trainees t on t.trainee_id = en.trainee_id
               where en.enrollment_id = %s""", (key,)).fetchone()
        if e is None:
            return {"kind": "missing", "title": _("Enrollment %(id)s") % {"id": key}, "notice": _("Not in the raw data.")}
        facts = [(_("Enrollment"), f"{key} · " + _("class %(id)s") % {"id": e["class_id"]}
                  + f" · {value_label(e['status'])}"),
                 (_("Trainee"), f"{e['trainee_id']} · {e['id_masked']}"),
                 (_("Age at class start"), f"{e['age']} (" + _("the class starts %(date)s") % {
                     "date": fmt_date(e["start_date"])} + ")")]
        return {"kind": "facts", "title": _("Enrollment %(id)s") % {"id": key}, "facts": facts}
    t = conn.execute(
        """select trainee_id, id_masked, id_format_ok, id_birth_date, id_check_ok from raw_training.trainees
           where trainee_id = %s""", (key,)).fetchone()
    if t is None:
        return {"kind": "missing", "title": _("Trainee %(id)s") % {"id": key}, "notice": _("Not in the raw data.")}
    facts = [(_("Trainee"), f"{key} · {t['id_masked']}"),
             (_("Format (17 digits and a check character)"), _("correct") if t["id_format_ok"] else _("wrong")),
             (_("Birth date in the number"), fmt_date(t["id_birth_date"]) if t["id_birth_date"]
              else _("not a real date")),
             (_("Check character"), _("correct") if t["id_check_ok"] else _("wrong"))]
    return {"kind": "facts", "title": _("Trainee %(id)s") % {"id": key}, "facts": facts}
