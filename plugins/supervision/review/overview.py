"""The overview page's figures: active alerts by district and rule, over time, and progress against
the 2024 targets (``marts.district_target_progress``, built by dbt; a notice while it is absent)."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import psycopg

from supervision.config import CITY_CODE, DISTRICTS
from supervision.review import catalogue as cat
from supervision.review import charts
from supervision.review.i18n import N_, district_label, fmt_number, gettext, severity_label

log = logging.getLogger(__name__)

METRICS = {   # metric_code: label (a message id), MARTS.md order
    "subsidised_training": N_("Subsidised vocational skills training (person-times)"),
    "new_skill_training": N_("New-occupation, new-skill training"),
    "life_service_training": N_("Life-service training"),
    "apprenticeship_training": N_("New-style apprenticeship training (persons)"),
    "high_skill_certificates": N_("Certificates of senior worker and above (levels 1–3)"),
    "new_employer_evaluation_orgs": N_("New employer evaluation organisations"),
    "new_college_evaluation_orgs": N_("New college evaluation organisations"),
}


def metric_label(code: str) -> str:
    return gettext(METRICS[code]) if code in METRICS else code


def build_overview(pool, user, district: str | None, rule: str | None) -> dict:
    with pool.as_user(user.district_code) as conn:
        out: dict = {"generated": date.today()}
        grid = conn.execute(
            "select district_code, rule_code, count(*) as n from marts.supervision_alerts where is_active "
            "group by 1, 2").fetchall()
        by_d: dict[str, dict[str, int]] = {}
        for r in grid:
            by_d.setdefault(r["district_code"], {})[r["rule_code"]] = r["n"]
        rules_present = [c for c in cat.RULES if any(c in v for v in by_d.values())]
        districts = [d for d in [CITY_CODE, *DISTRICTS] if d in by_d]
        vmax = max([n for v in by_d.values() for n in v.values()] or [1])
        out["grid"] = {"rules": rules_present, "districts": districts, "cells": by_d,
                       "row_totals": {d: sum(v.values()) for d, v in by_d.items()},
                       "col_totals": {c: sum(v.get(c, 0) for v in by_d.values()) for c in rules_present},
                       "level": lambda n: 0 if not n else min(5, 1 + int(4 * n / vmax))}
        out["total_active"] = sum(out["grid"]["row_totals"].values())
        status = conn.execute("select status, count(*) as n from marts.supervision_alerts where is_active group by 1"
                              ).fetchall()
        out["by_status"] = {r["status"]: r["n"] for r in status}
        # weekly, by severity, over the latest 52 weeks that hold data
        conds, params = ["is_active"], []
        if district:
            conds.append("district_code = %s")
            params.append(district)
        if rule:
            conds.append("rule_code = %s")
            params.append(rule)
        where = " and ".join(conds)
        span = conn.execute(f"select min(occurred_on) as lo, max(occurred_on) as hi from marts.supervision_alerts "
                            f"where {where}", params).fetchone()
        last = span["hi"]
        out["weekly_chart"] = None
        if last:
            end = last - timedelta(days=last.weekday())
            first = span["lo"] - timedelta(days=span["lo"].weekday())
            nweeks = min(52, max(8, (end - first).days // 7 + 1))
            start = end - timedelta(weeks=nweeks - 1)
            rows = conn.execute(
                f"select date_trunc('week', occurred_on)::date as wk, severity, count(*) as n "
                f"from marts.supervision_alerts where {where} and occurred_on >= %s group by 1, 2",
                params + [start]).fetchall()
            weeks = [start + timedelta(weeks=i) for i in range(nweeks)]
            idx = {w: i for i, w in enumerate(weeks)}
            series = {s: [0.0] * nweeks for s in cat.SEVERITIES}
            for r in rows:
                if r["wk"] in idx:
                    series[r["severity"]][idx[r["wk"]]] = r["n"]
            title = gettext("Active alerts per week") + (f" · {district_label(district)}" if district else "") + (
                f" · {rule}" if rule else "")
            out["weekly_chart"] = charts.line_chart(
                "weekly-chart", title, [f"{w:%m-%d}" for w in weeks],
                [(f"sev-{s}", severity_label(s), series[s]) for s in cat.SEVERITIES])
        out["targets"] = _targets(conn)
    return out


def _targets(conn) -> dict:
    try:
        with conn.transaction():
            if conn.execute("select to_regclass('marts.district_target_progress') is not null as ok"
                            ).fetchone()["ok"] is False:
                return {"notice": gettext("The target progress (marts.district_target_progress) does not exist "
                                          "yet: the marts pipeline builds it.")}
            rows = conn.execute(
                "select district_code, month, metric_code, month_value, ytd_value, annual_target, ytd_pct_of_target "
                "from marts.district_target_progress where month >= date '2024-01-01' and month < date '2025-01-01' "
                "and has_data "
                "order by month").fetchall()
    except psycopg.Error as err:
        log.warning("targets not readable: %s", err)
        return {"notice": gettext("The target progress is not readable yet (%(error)s): run `supervision roles` "
                                  "after the marts are built.") % {"error": type(err).__name__}}
    if not rows:
        return {"notice": gettext("marts.district_target_progress holds no 2024 rows yet.")}
    latest = max(r["month"] for r in rows)
    pace = latest.month / 12
    city_target = {r["metric_code"]: float(r["annual_target"]) for r in rows
                   if r["district_code"] == CITY_CODE and r["annual_target"] is not None}
    metrics = [m for m in METRICS if any(r["metric_code"] == m for r in rows)] + sorted(
        {r["metric_code"] for r in rows} - set(METRICS))
    months = sorted({r["month"] for r in rows})
    cards = []
    for m in metrics:
        city = {r["month"]: r for r in rows if r["district_code"] == CITY_CODE and r["metric_code"] == m}
        cur = city.get(latest)
        ytd = float(cur["ytd_value"]) if cur else 0.0
        target = city_target.get(m)
        chart = charts.line_chart(
            f"target-chart-{m}", gettext("%(metric)s, year to date") % {"metric": metric_label(m)},
            [f"{mo:%m}" for mo in months],
            [("ytd", gettext("City, year to date"), [float(city[mo]["ytd_value"]) if mo in city else 0.0
                                                     for mo in months]),
             ("pace", gettext("Target pro rata"), [target * mo.month / 12 if target else 0.0 for mo in months])],
            target=target, height=220, fmt=fmt_number, width=520)
        bar = charts.progress_bar(f"progress-{m}", metric_label(m), ytd, target, pace) if target else None
        cards.append({"metric": m, "label": metric_label(m), "ytd": ytd, "target": target,
                      "pct": ytd / target if target else None, "pace": pace, "chart": chart, "bar": bar})
    table = []
    for d in DISTRICTS:
        cells = {}
        for m in metrics:
            r = next((r for r in rows if r["district_code"] == d and r["metric_code"] == m and r["month"] == latest),
                     None)
            v = float(r["ytd_value"]) if r else 0.0
            t = city_target.get(m)
            cells[m] = {"ytd": v, "share": v / t if t else None}
        table.append({"district": d, "cells": cells})
    return {"latest": latest, "pace": pace, "cards": cards, "metrics": metrics, "table": table,
            "metric_labels": {m: metric_label(m) for m in metrics}}
