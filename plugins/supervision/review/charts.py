"""A tiny SVG chart helper: server-side, no JavaScript, no external assets.

Every chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` for screen readers and
``<title>`` on each mark as a tooltip; marks carry CSS classes (styled in static/app.css) that the
browser tests look for. All text is escaped here; the result is safe ``Markup``.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from markupsafe import Markup

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
        cx += 26 + 7.5 * len(label)
    return out


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
    rows = [("全部 covered", None)] + [(c, c) for c in cameras]
    uncovered = sum(1 for m in minutes if not m["covered"])
    for label, cam in rows:
        body.append(f'<text class="tick" x="{x0 - 6}" y="{y + 10}" text-anchor="end">{_e(label)}</text>')
        for k, m in enumerate(minutes):
            up = m["covered"] if cam is None else camera_up.get(cam, [False] * n)[k]
            cls = ("minute " if cam is None else "cam-minute ") + ("covered" if up else "uncovered")
            mx = x0 + pw * k * 60 / span
            w = max(pw * 60 / span - 0.3, 0.6)
            tip = f"{m['t']:%H:%M} " + ("covered" if up else "NOT covered")
            if cam is None:
                tip += f" ({m['cameras_up']} camera(s) up)"
            body.append(f'<rect class="{cls}" x="{mx:.2f}" y="{y}" width="{w:.2f}" height="{strip_h}">'
                        f'<title>{_e(tip)}</title></rect>')
        y += strip_h + 4
    if not cameras:
        body.append(f'<text class="note" x="{x0}" y="{y + 10}">此場地沒有攝像頭 The site has no cameras</text>')
        y += 16
    top = y + 14
    bottom = top + 190
    vmax = _nice_max(max([checked_in, *(h for _, h in headcounts)] or [1]) * 1.1)

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
    body.append(f'<line class="checked-in-total" x1="{x0}" x2="{x1}" y1="{yv(checked_in):.1f}" y2="{yv(checked_in):.1f}">'
                f'<title>簽到人數 checked in: {checked_in}</title></line>')
    thr = 0.8 * checked_in
    body.append(f'<line class="threshold-line" x1="{x0}" x2="{x1}" y1="{yv(thr):.1f}" y2="{yv(thr):.1f}">'
                f'<title>80% of checked in: {thr:g}</title></line>')
    if checkins:
        pts, count = [f"{x0:.1f},{yv(0):.1f}"], 0
        for ct in sorted(checkins):
            pts.append(f"{xt(ct):.1f},{yv(count):.1f}")
            count += 1
            pts.append(f"{xt(ct):.1f},{yv(count):.1f}")
        pts.append(f"{x1:.1f},{yv(count):.1f}")
        body.append(f'<polyline class="checkin-line" points="{" ".join(pts)}"><title>累計簽到 cumulative check-ins</title></polyline>')
    if headcounts:
        points = " ".join(f"{xt(ht):.1f},{yv(h):.1f}" for ht, h in headcounts)
        body.append(f'<polyline class="headcount-line" points="{points}"/>')
        for ht, h in headcounts:
            body.append(f'<circle class="headcount-point" cx="{xt(ht):.1f}" cy="{yv(h):.1f}" r="2.5">'
                        f'<title>{ht:%H:%M} 攝像頭人數 headcount {h}</title></circle>')
    if highlight is not None:
        body.append(f'<line class="highlight-marker" x1="{xt(highlight):.1f}" x2="{xt(highlight):.1f}" y1="{top}" '
                    f'y2="{bottom}"><title>this attendance record {highlight:%H:%M:%S}</title></line>')
    body += _legend([("headcount", "攝像頭人數 headcount"), ("checkin", "累計簽到 checked in"),
                     ("threshold", "80% 簽到"), ("uncovered", "未覆蓋 uncovered minute")], x0, bottom + 36)
    h = bottom + 46
    desc = (f"Session {starts_at:%Y-%m-%d %H:%M}–{ends_at:%H:%M}: {uncovered} of {len(minutes)} minutes uncovered; "
            f"{checked_in} checked in; largest headcount {max([0, *(c for _, c in headcounts)])}.")
    return _svg(chart_id, "攝像頭覆蓋與人數 Camera coverage and headcount", desc, int(h), body)


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
        tip = f"{s['session_id']} {s['starts_at']:%m-%d %H:%M}: attended {s['attended_hours']:.2f} h of {s['session_hours']:.2f} h"
        body.append(f'<rect class="bar session-hours" x="{bx:.1f}" y="{bottom - hs:.1f}" width="{w:.1f}" height="{hs:.1f}">'
                    f'<title>{_e(tip)}</title></rect>')
        body.append(f'<rect class="bar attended-hours{" zero" if s["attended_hours"] <= 0 else ""}" x="{bx:.1f}" '
                    f'y="{bottom - ha:.1f}" width="{w:.1f}" height="{ha:.1f}"><title>{_e(tip)}</title></rect>')
        if n <= 40:
            body.append(f'<text class="tick" x="{bx + w / 2:.1f}" y="{bottom + 14}" text-anchor="middle">{s["starts_at"]:%m-%d}</text>')
    body.append(f'<line class="axis" x1="{x0}" x2="{x1}" y1="{bottom}" y2="{bottom}"/>')
    body.append(f'<text class="axis-label" x="{x0}" y="{top - 6}">每節課學時 hours per session</text>')
    # cumulative
    t2, b2 = bottom + 46, bottom + 206
    total = sum(s["attended_hours"] for s in sessions)
    vmax2 = _nice_max(max(planned_hours, total, 1))
    body += _y_axis(x0, t2, b2, vmax2)

    def y2(v: float) -> float:
        return b2 - (b2 - t2) * v / vmax2
    body.append(f'<line class="planned-line" x1="{x0}" x2="{x1}" y1="{y2(planned_hours):.1f}" y2="{y2(planned_hours):.1f}">'
                f'<title>計劃學時 planned {planned_hours:g} h</title></line>')
    body.append(f'<line class="threshold-line" x1="{x0}" x2="{x1}" y1="{y2(planned_hours * ratio):.1f}" '
                f'y2="{y2(planned_hours * ratio):.1f}"><title>{ratio:.0%} of planned: {planned_hours * ratio:g} h</title></line>')
    pts, cum = [f"{x0:.1f},{y2(0):.1f}"], 0.0
    for i, s in enumerate(sessions):
        cum += s["attended_hours"]
        pts.append(f"{x0 + (i + 1) * bw:.1f},{y2(cum):.1f}")
    body.append(f'<polyline class="cumulative-line" points="{" ".join(pts)}"><title>累計出勤 cumulative {cum:.2f} h</title></polyline>')
    body.append(f'<line class="axis" x1="{x0}" x2="{x1}" y1="{b2}" y2="{b2}"/>')
    body.append(f'<text class="axis-label" x="{x0}" y="{t2 - 6}">累計學時 cumulative hours vs planned</text>')
    body += _legend([("session-hours", "課節時長 session length"), ("attended", "出勤學時 attended"),
                     ("planned", "計劃學時 planned"), ("threshold", f"{ratio:.0%} 計劃")], x0, b2 + 30)
    desc = (f"{len(sessions)} held sessions; attended {total:.1f} h of {planned_hours:g} planned hours "
            f"(threshold {planned_hours * ratio:g} h).")
    return _svg(chart_id, "出勤學時與要求 Hours attended vs required", desc, b2 + 40, body)


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
        tip = f"{lo}–{hi if i < bins - 1 else 100}: {p:.1%} of this exam's {exam_n} results"
        if base_pct is not None:
            tip += f"; baseline {base_pct[i]:.1%}"
        body.append(f'<rect class="bar exam-bar" x="{x0 + i * bw + 3:.1f}" y="{yv(p):.1f}" width="{bw - 6:.1f}" '
                    f'height="{bottom - yv(p):.1f}"><title>{_e(tip)}</title></rect>')
        body.append(f'<text class="tick" x="{x0 + i * bw:.1f}" y="{bottom + 14}" text-anchor="middle">{lo}</text>')
    body.append(f'<text class="tick" x="{x1:.1f}" y="{bottom + 14}" text-anchor="middle">100</text>')
    if base_pct is not None:
        pts = []
        for i, p in enumerate(base_pct):
            pts += [f"{x0 + i * bw:.1f},{yv(p):.1f}", f"{x0 + (i + 1) * bw:.1f},{yv(p):.1f}"]
        body.append(f'<polyline class="baseline-line" points="{" ".join(pts)}">'
                    f'<title>基準 baseline ({base_n} results)</title></polyline>')
    px = x0 + (x1 - x0) * pass_mark / 100
    body.append(f'<line class="pass-mark" x1="{px:.1f}" x2="{px:.1f}" y1="{top}" y2="{bottom}"><title>合格線 pass mark {pass_mark:g}</title></line>')
    if marker is not None:
        mx = x0 + (x1 - x0) * min(max(marker, 0), 100) / 100
        body.append(f'<line class="candidate-marker" x1="{mx:.1f}" x2="{mx:.1f}" y1="{top}" y2="{bottom}">'
                    f'<title>this candidate: {marker:g}</title></line>')
    body.append(f'<line class="axis" x1="{x0}" x2="{x1}" y1="{bottom}" y2="{bottom}"/>')
    body += _legend([("exam", f"本場 this exam (n={exam_n})"), ("baseline", f"基準 baseline (n={base_n})"),
                     ("passmark", "合格線 60")], x0, bottom + 34)
    desc = f"{title}: distribution of {exam_n} results of this exam" + (
        f" against {base_n} baseline results" if base_pct is not None else " (no baseline)")
    return _svg(chart_id, title, desc, bottom + 44, body)


# --- overview ------------------------------------------------------------------------------------

def line_chart(chart_id: str, title: str, labels: list[str], series: list[tuple[str, str, list[float]]],
               target: float | None = None, height: int = 240, fmt=lambda v: f"{v:g}", width: int = W) -> Markup:
    """Lines over a shared x axis; ``series`` = (css class, label, values)."""
    n = max(len(labels), 1)
    x0, x1 = PAD_L + 10, width - PAD_R
    top, bottom = 16, height - 48
    vmax = _nice_max(max([*(v for _, _, vs in series for v in vs), target or 0, 1]))

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
        body.append(f'<line class="target-line" x1="{x0}" x2="{x1}" y1="{yv(target):.1f}" y2="{yv(target):.1f}">'
                    f'<title>目標 target {fmt(target)}</title></line>')
    for cls, label, vals in series:
        pts = " ".join(f"{xv(i):.1f},{yv(v):.1f}" for i, v in enumerate(vals))
        body.append(f'<polyline class="series {cls}" points="{pts}"><title>{_e(label)}</title></polyline>')
        for i, v in enumerate(vals):
            body.append(f'<circle class="point {cls}" cx="{xv(i):.1f}" cy="{yv(v):.1f}" r="2.5">'
                        f'<title>{_e(label)} {_e(labels[i] if i < len(labels) else "")}: {_e(fmt(v))}</title></circle>')
    body.append(f'<line class="axis" x1="{x0}" x2="{x1}" y1="{bottom}" y2="{bottom}"/>')
    body += _legend([(cls, label) for cls, label, _ in series] + ([("target", "目標 target")] if target else []),
                    x0, bottom + 34)
    desc = f"{title}: " + "; ".join(f"{label} latest {fmt(vals[-1]) if vals else '—'}" for _, label, vals in series)
    return _svg(chart_id, title, desc, height, body, width=width)


def progress_bar(chart_id: str, label: str, value: float, target: float, pace: float) -> Markup:
    """A horizontal bar of value / target with a marker at the pro-rata pace (share of year elapsed)."""
    pct = value / target if target else 0
    x0, x1, h = 0, 400, 22
    w = (x1 - x0) * min(pct, 1)
    px = (x1 - x0) * min(pace, 1)
    cls = "ahead" if pct >= pace else "behind"
    body = [f'<rect class="track" x="0" y="4" width="{x1}" height="14"/>',
            f'<rect class="fill {cls}" x="0" y="4" width="{w:.1f}" height="14"><title>{_e(label)}: {pct:.1%}</title></rect>',
            f'<line class="pace-marker" x1="{px:.1f}" x2="{px:.1f}" y1="0" y2="{h}"><title>進度基準 pace {pace:.0%}</title></line>']
    return Markup(f'<svg id="{_e(chart_id)}" class="progress {cls}" role="img" aria-label="{_e(label)}: {pct:.1%} '
                  f'of target, pace {pace:.0%}" viewBox="0 0 {x1} {h}" xmlns="http://www.w3.org/2000/svg">'
                  + "".join(body) + "</svg>")
