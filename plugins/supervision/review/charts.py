"""A tiny SVG chart helper: server-side, no JavaScript, no external assets.

Every chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` for screen readers and
``<title>`` on each mark as a tooltip; marks carry CSS classes (styled in static/app.css) that the
browser tests look for. All text is escaped here; the result is safe ``Markup``.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from html import escape

from markupsafe import Markup

from supervision.review.i18n import fmt_percent
from supervision.review.i18n import gettext as _

W, PAD_L, PAD_R = 960, 56, 16


def _e(x) -> str:
    return escape(str(x), quote=True)


def _svg(id_: str, title: str, desc: str, height: int, body: list[str], cls: str = "chart", width: int = W) -> Markup:
    return Markup(
        f'<svg id="{_e(id_)}" class="{_e(cls)}" role="img" aria-labelledby="{_e(id_)}-t {_e(id_)}-d" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{_e(id_)}-t">{_e(title)}</title><desc id="{_e(id_)}-d">{_e(desc)}</desc>'
        + "".join(body) + "</svg>")


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000,
                 100000, 200000, 500000, 1000000):
        if v <= step * 5:
            return float(step * (int(v // step) + 1))
    return v * 1.1


def _y_axis(x0: float, y_top: float, y_bot: float, vmax: float, ticks: int = 5, fmt=lambda v: f"{v:g}",
            x_end: float = W - PAD_R) -> list[str]:
    out = []
    for i in range(ticks + 1):
        v = vmax * i / ticks
        y = y_bot - (y_bot - y_top) * i / ticks
        out.append(f'<line class="grid" x1="{x0}" x2="{x_end}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text class="tick" x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(fmt(v))}</text>')
    return out


def _legend(items: list[tuple[str, str]], x: float, y: float) -> list[str]:
    out, cx = [], x
    for cls, label in items:
        out.append(f'<rect class="legend-key {cls}" x="{cx}" y="{y - 9}" width="14" height="10"/>'
                   f'<text class="legend" x="{cx + 18}" y="{y}">{_e(label)}</text>')
        cx += 26 + _text_width(label)
    return out


def _text_width(text: str) -> float:
    """Rough width of a legend label in the chart's units: a Chinese character is about twice as wide."""
    return sum(14.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 7.5 for ch in text)


# --- session timeline ---------------------------------------------------------------------------

def session_timeline(chart_id: str, starts_at: datetime, ends_at: datetime, minutes: list[dict],
                     cameras: list[str], camera_up: dict[str, list[bool]], headcounts: list[tuple[datetime, int]],
                     checkins: list[datetime], checked_in: int, highlight: datetime | None = None) -> Markup:
    """Minute-by-minute camera coverage (one strip per camera and a 'covered' strip), the headcount
    the cameras reported against the number checked in (cumulative) and 80 % of it."""
    n = max(len(minutes), 1)
    span = max((ends_at - starts_at).total_seconds(), 60.0)
    x0, x1 = PAD_L + 70, W - PAD_R
    pw = x1 - x0

    def xt(t: datetime) -> float:
        return x0 + pw * min(max((t - starts_at).total_seconds() / span, 0.0), 1.0)

    body: list[str] = []
    strip_h, y = 12, 24
    rows = [(_("covered"), None)] + [(c, c) for c in cameras]
    uncovered = sum(1 for m in minutes if not m["covered"])
    for label, cam in rows:
        body.append(f'<text class="tick" x="{x0 - 6}" y="{y + 10}" text-anchor="end">{_e(label)}</text>')
        for k, m in enumerate(minutes):
            up = m["covered"] if cam is None else camera_up.get(cam, [False] * n)[k]
            cls = ("minute " if cam is None else "cam-minute ") + ("covered" if up else "uncovered")
            mx = x0 + pw * k * 60 / span
            w = max(pw * 60 / span - 0.3, 0.6)
            tip = f"{m['t']:%H:%M} " + (_("covered") if up else _("NOT covered"))
            if cam is None:
                tip += " (" + _("%(n)s camera(s) up") % {"n": m["cameras_up"]} + ")"
            body.append(f'<rect class="{cls}" x="{mx:.2f}" y="{y}" width="{w:.2f}" height="{strip_h}">'
                        f'<title>{_e(tip)}</title></rect>')
        y += strip_h + 4
    if not cameras:
        note = _e(_("The site has no cameras"))
        body.append(f'<text class="note" x="{x0}" y="{y + 10}">{note}</text>')
        y += 16
    top = y + 14
    bottom = top + 190
    vmax = _nice_max(max([checked_in, *(h for _t, h in headcounts)] or [1]) * 1.1)

    def yv(v: float) -> float:
        return bottom - (bottom - top) * v / vmax

    body += _y_axis(x0, top, bottom, vmax)
    # time axis
    step = 15 if span <= 3 * 3600 else 30 if span <= 6 * 3600 else 60
    t = starts_at.replace(second=0, microsecond=0)
    t += timedelta(minutes=(-t.minute) % step)
    while t <= ends_at:
        body.append(f'<line class="axis-tick" x1="{xt(t):.1f}" x2="{xt(t):.1f}" y1="{bottom}" y2="{bottom + 4}"/>'
                    f'<text class="tick" x="{xt(t):.1f}" y="{bottom + 16}" text-anchor="middle">{t:%H:%M}</text>')
        t += timedelta(minutes=step)
    body.append(f'<line class="axis" x1="{x0}" x2="{x1}" y1="{bottom}" y2="{bottom}"/>')
    # checked in: total, 80 % threshold, cumulative step line
    thr = 0.8 * checked_in
    checked_in_tip = _("Checked in: %(n)s") % {"n": checked_in}
    threshold_tip = _("80%% of checked in: %(n)s") % {"n": f"{thr:g}"}
    headcount_word, record_word = _("camera headcount"), _("This attendance record")
    body.append(f'<line class="checked-in-total" x1="{x0}" x2="{x1}" y1="{yv(checked_in):.1f}" y2="{yv(checked_in):.1f}">'
                f'<title>{_e(checked_in_tip)}</title></line>')
    body.append(f'<line class="threshold-line" x1="{x0}" x2="{x1}" y1="{yv(thr):.1f}" y2="{yv(thr):.1f}">'
                f'<title>{_e(threshold_tip)}</title></line>')
    if checkins:
        pts, count = [f"{x0:.1f},{yv(0):.1f}"], 0
        for ct in sorted(checkins):
            pts.append(f"{xt(ct):.1f},{yv(count):.1f}")
            count += 1
            pts.append(f"{xt(ct):.1f},{yv(count):.1f}")
        pts.append(f"{x1:.1f},{yv(count):.1f}")
        tip = _e(_("Check-ins, cumulative"))
        body.append(f'<polyline class="checkin-line" points="{" ".join(pts)}"><title>{tip}</title></polyline>')
    if headcounts:
        points = " ".join(f"{xt(ht):.1f},{yv(h):.1f}" for ht, h in headcounts)
        body.append(f'<polyline class="headcount-line" points="{points}"/>')
        for ht, h in headcounts:
            body.append(f'<circle class="headcount-point" cx="{xt(ht):.1f}" cy="{yv(h):.1f}" r="2.5">'
                        f'<title>{ht:%H:%M} {_e(headcount_word)} {h}</title></circle>')
    if highlight is not None:
        body.append(f'<line class="highlight-marker" x1="{xt(highlight):.1f}" x2="{xt(highlight):.1f}" y1="{top}" '
                    f'y2="{bottom}"><title>{_e(record_word)} {highlight:%H:%M:%S}</title></line>')
    body += _legend([("headcount", _("camera headcount")), ("checkin", _("checked in")),
                     ("threshold", _("%(p)s of checked in") % {"p": fmt_percent(0.8, 0)}), ("uncovered", _("uncovered minute"))], x0, bottom + 36)
    h = bottom + 46
    desc = _("Session %(start)s–%(end)s: %(uncovered)s of %(minutes)s minutes uncovered; %(checked_in)s checked "
             "in; largest headcount %(largest)s.") % {
        "start": f"{starts_at:%Y-%m-%d %H:%M}", "end": f"{ends_at:%H:%M}", "uncovered": uncovered,
        "minutes": len(minutes), "checked_in": checked_in, "largest": max([0, *(c for _t, c in headcounts)])}
    return _svg(chart_id, _("Camera coverage and headcount"), desc, int(h), body)


# --- hours attended vs required ------------------------------------------------------------------

def hours_chart(chart_id: str, sessions: list[dict], planned_hours: float, ratio: float = 0.8) -> Markup:
    """One group per held session: session length (outline) and hours attended (filled); then a
    cumulative line of hours attended against the planned hours and the threshold."""
    n = max(len(sessions), 1)
    x0, x1 = PAD_L, W - PAD_R
    top, bottom = 20, 200
    vmax = _nice_max(max([s["session_hours"] for s in sessions] or [1]))
    bw = (x1 - x0) / n
    body = _y_axis(x0, top, bottom, vmax)
    for i, s in enumerate(sessions):
        bx = x0 + i * bw + bw * 0.12
        w = max(bw * 0.76, 1)
        hs = (bottom - top) * s["session_hours"] / vmax
        ha = (bottom - top) * s["attended_hours"] / vmax
        tip = f"{s['session_id']} {s['starts_at']:%m-%d %H:%M}: " + _("attended %(a)s h of %(s)s h") % {
            "a": f"{s['attended_hours']:.2f}", "s": f"{s['session_hours']:.2f}"}
        body.append(f'<rect class="bar session-hours" x="{bx:.1f}" y="{bottom - hs:.1f}" width="{w:.1f}" height="{hs:.1f}">'
                    f'<title>{_e(tip)}</title></rect>')
        body.append(f'<rect class="bar attended-hours{" zero" if s["attended_hours"] <= 0 else ""}" x="{bx:.1f}" '
                    f'y="{bottom - ha:.1f}" width="{w:.1f}" height="{ha:.1f}"><title>{_e(tip)}</title></rect>')
        if n <= 40:
            body.append(f'<text class="tick" x="{bx + w / 2:.1f}" y="{bottom + 14}" text-anchor="middle">{s["starts_at"]:%m-%d}</text>')
    body.append(f'<line class="axis" x1="{x0}" x2="{x1}" y1="{bottom}" y2="{bottom}"/>')
    axis_label = _e(_("Hours per session"))
    body.append(f'<text class="axis-label" x="{x0}" y="{top - 6}">{axis_label}</text>')
    # cumulative
    t2, b2 = bottom + 46, bottom + 206
    total = sum(s["attended_hours"] for s in sessions)
    vmax2 = _nice_max(max(planned_hours, total, 1))
    body += _y_axis(x0, t2, b2, vmax2)

    def y2(v: float) -> float:
        return b2 - (b2 - t2) * v / vmax2
    planned_tip = _("Planned: %(h)s h") % {"h": f"{planned_hours:g}"}
    ratio_tip = _("%(ratio)s of planned: %(h)s h") % {"ratio": fmt_percent(ratio, 0), "h": f"{planned_hours * ratio:g}"}
    body.append(f'<line class="planned-line" x1="{x0}" x2="{x1}" y1="{y2(planned_hours):.1f}" y2="{y2(planned_hours):.1f}">'
                f'<title>{_e(planned_tip)}</title></line>')
    body.append(f'<line class="threshold-line" x1="{x0}" x2="{x1}" y1="{y2(planned_hours * ratio):.1f}" '
                f'y2="{y2(planned_hours * ratio):.1f}"><title>{_e(ratio_tip)}</title></line>')
    pts, cum = [f"{x0:.1f},{y2(0):.1f}"], 0.0
    for i, s in enumerate(sessions):
        cum += s["attended_hours"]
        pts.append(f"{x0 + (i + 1) * bw:.1f},{y2(cum):.1f}")
    cum_tip = _e(_("Attended, cumulative: %(h)s h") % {"h": f"{cum:.2f}"})
    body.append(f'<polyline class="cumulative-line" points="{" ".join(pts)}"><title>{cum_tip}</title></polyline>')
    body.append(f'<line class="axis" x1="{x0}" x2="{x1}" y1="{b2}" y2="{b2}"/>')
    axis_label = _e(_("Cumulative hours against the plan"))
    body.append(f'<text class="axis-label" x="{x0}" y="{t2 - 6}">{axis_label}</text>')
    body += _legend([("session-hours", _("session length")), ("attended", _("attended")),
                     ("planned", _("planned hours")), ("threshold", _("%(ratio)s of planned") % {"ratio": fmt_percent(ratio, 0)})],
                    x0, b2 + 30)
    desc = _("%(n)s held sessions; attended %(total)s h of %(planned)s planned hours (threshold %(threshold)s h).") % {
        "n": len(sessions), "total": f"{total:.1f}", "planned": f"{planned_hours:g}",
        "threshold": f"{planned_hours * ratio:g}"}
    return _svg(chart_id, _("Hours attended against the hours required"), desc, b2 + 40, body)


# --- score distribution -----------------------------------------------------------------------------

def score_histogram(chart_id: str, title: str, exam_pct: list[float], base_pct: list[float] | None,
                    exam_n: int, base_n: int, marker: float | None = None, pass_mark: float = 60) -> Markup:
    """Share of results per 10-point band for this exam (bars) and the baseline (step line)."""
    bins = len(exam_pct)
    x0, x1 = PAD_L, W - PAD_R
    top, bottom = 20, 220
    vmax = _nice_max(max([*exam_pct, *(base_pct or []), 0.01]) * 100) / 100
    bw = (x1 - x0) / bins
    body = _y_axis(x0, top, bottom, vmax, fmt=lambda v: f"{v:.0%}")

    def yv(v: float) -> float:
        return bottom - (bottom - top) * v / vmax
    for i, p in enumerate(exam_pct):
        lo = i * 100 // bins
        hi = (i + 1) * 100 // bins
        tip = f"{lo}–{hi if i < bins - 1 else 100}: " + _("%(p)s of this exam's %(n)s results") % {
            "p": fmt_percent(p), "n": exam_n}
        if base_pct is not None:
            tip += "; " + _("baseline %(p)s") % {"p": fmt_percent(base_pct[i])}
        body.append(f'<rect class="bar exam-bar" x="{x0 + i * bw + 3:.1f}" y="{yv(p):.1f}" width="{bw - 6:.1f}" '
                    f'height="{bottom - yv(p):.1f}"><title>{_e(tip)}</title></rect>')
        body.append(f'<text class="tick" x="{x0 + i * bw:.1f}" y="{bottom + 14}" text-anchor="middle">{lo}</text>')
    body.append(f'<text class="tick" x="{x1:.1f}" y="{bottom + 14}" text-anchor="middle">100</text>')
    if base_pct is not None:
        pts = []
        for i, p in enumerate(base_pct):
            pts += [f"{x0 + i * bw:.1f},{yv(p):.1f}", f"{x0 + (i + 1) * bw:.1f},{yv(p):.1f}"]
        baseline_tip = _("Baseline (%(n)s results)") % {"n": base_n}
        body.append(f'<polyline class="baseline-line" points="{" ".join(pts)}">'
                    f'<title>{_e(baseline_tip)}</title></polyline>')
    px = x0 + (x1 - x0) * pass_mark / 100
    pass_word = _e(_("Pass mark"))
    body.append(f'<line class="pass-mark" x1="{px:.1f}" x2="{px:.1f}" y1="{top}" y2="{bottom}"><title>{pass_word} {pass_mark:g}</title></line>')
    if marker is not None:
        mx = x0 + (x1 - x0) * min(max(marker, 0), 100) / 100
        candidate_word = _("This candidate")
        body.append(f'<line class="candidate-marker" x1="{mx:.1f}" x2="{mx:.1f}" y1="{top}" y2="{bottom}">'
                    f'<title>{_e(candidate_word)}: {marker:g}</title></line>')
    body.append(f'<line class="axis" x1="{x0}" x2="{x1}" y1="{bottom}" y2="{bottom}"/>')
    body += _legend([("exam", _("this exam") + f" (n={exam_n})"), ("baseline", _("baseline") + f" (n={base_n})"),
                     ("passmark", _("Pass mark") + f" {pass_mark:g}")], x0, bottom + 34)
    desc = f"{title}: " + (_("distribution of %(n)s results of this exam against %(b)s baseline results")
                           if base_pct is not None else _("distribution of %(n)s results of this exam (no baseline)")
                           ) % {"n": exam_n, "b": base_n}
    return _svg(chart_id, title, desc, bottom + 44, body)


# --- overview ------------------------------------------------------------------------------------

def line_chart(chart_id: str, title: str, labels: list[str], series: list[tuple[str, str, list[float]]],
               target: float | None = None, height: int = 240, fmt=lambda v: f"{v:g}", width: int = W) -> Markup:
    """Lines over a shared x axis; ``series`` = (css class, label, values)."""
    n = max(len(labels), 1)
    x0, x1 = PAD_L + 10, width - PAD_R
    top, bottom = 16, height - 48
    vmax = _nice_max(max([*(v for _c, _l, vs in series for v in vs), target or 0, 1]))

    def xv(i: int) -> float:
        return x0 + (x1 - x0) * (i / max(n - 1, 1))

    def yv(v: float) -> float:
        return bottom - (bottom - top) * v / vmax
    body = _y_axis(x0, top, bottom, vmax, fmt=fmt, x_end=x1)
    every = max(1, n // 12)
    for i, lab in enumerate(labels):
        if i % every == 0:
            body.append(f'<text class="tick" x="{xv(i):.1f}" y="{bottom + 14}" text-anchor="middle">{_e(lab)}</text>')
    if target is not None:
        target_word = _("Target")
        body.append(f'<line class="target-line" x1="{x0}" x2="{x1}" y1="{yv(target):.1f}" y2="{yv(target):.1f}">'
                    f'<title>{_e(target_word)} {_e(fmt(target))}</title></line>')
    for cls, label, vals in series:
        pts = " ".join(f"{xv(i):.1f},{yv(v):.1f}" for i, v in enumerate(vals))
        body.append(f'<polyline class="series {cls}" points="{pts}"><title>{_e(label)}</title></polyline>')
        for i, v in enumerate(vals):
            body.append(f'<circle class="point {cls}" cx="{xv(i):.1f}" cy="{yv(v):.1f}" r="2.5">'
                        f'<title>{_e(label)} {_e(labels[i] if i < len(labels) else "")}: {_e(fmt(v))}</title></circle>')
    body.append(f'<line class="axis" x1="{x0}" x2="{x1}" y1="{bottom}" y2="{bottom}"/>')
    body += _legend([(cls, label) for cls, label, _v in series] + ([("target", _("Target"))] if target else []),
                    x0, bottom + 34)
    desc = f"{title}: " + "; ".join(f"{label} " + _("latest %(v)s") % {"v": fmt(vals[-1]) if vals else "—"}
                                    for _cls, label, vals in series)
    return _svg(chart_id, title, desc, height, body, width=width)


def progress_bar(chart_id: str, label: str, value: float, target: float, pace: float) -> Markup:
    """A horizontal bar of value / target with a marker at the pro-rata pace (share of year elapsed)."""
    pct = value / target if target else 0
    x0, x1, h = 0, 400, 22
    w = (x1 - x0) * min(pct, 1)
    px = (x1 - x0) * min(pace, 1)
    cls = "ahead" if pct >= pace else "behind"
    pace_tip = _("Pace of the year: %(p)s") % {"p": fmt_percent(pace, 0)}
    body = [f'<rect class="track" x="0" y="4" width="{x1}" height="14"/>',
            f'<rect class="fill {cls}" x="0" y="4" width="{w:.1f}" height="14"><title>{_e(label)}: '
            f'{_e(fmt_percent(pct))}</title></rect>',
            f'<line class="pace-marker" x1="{px:.1f}" x2="{px:.1f}" y1="0" y2="{h}"><title>'
            f'{_e(pace_tip)}</title></line>']
    aria = _("%(label)s: %(pct)s of the target, pace %(pace)s") % {
        "label": label, "pct": fmt_percent(pct), "pace": fmt_percent(pace, 0)}
    return Markup(f'<svg id="{_e(chart_id)}" class="progress {cls}" role="img" aria-label="{_e(aria)}" '
                  f'viewBox="0 0 {x1} {h}" xmlns="http://www.w3.org/2000/svg">'
                  + "".join(body) + "</svg>")
