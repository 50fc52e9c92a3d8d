"""The overview page's figures: active alerts by district and rule, over time, and progress against
the 2024 targets (``marts.district_target_progress``, built by dbt; a notice while it is absent)."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import psycopg

from supervision.config import CITY_CODE, DISTRICTS
from supervision.review import catalogue as cat
from supervision.review import charts

log = logging.getLogger(__name__)

METRICS = {   # metric_code: (中文, English), MARTS.md order
    "subsidised_training": ("補貼性職業技能培訓", "Subsidised training (person-times)"),
    "new_skill_training": ("新職業新技能培訓", "New-skill training"),
    "life_service_training": ("生活服務業培訓", "Life-service training"),
    "apprenticeship_training": ("新型學徒制培訓", "Apprenticeship training (persons)"),
    "high_skill_certificates": ("高級工及以上證書", "High-skill certificates (level 1–3)"),
    "new_employer_evaluation_orgs": ("新增用人單位評價機構", "New employer evaluation orgs"),
    "new_college_evaluation_orgs": ("新增院校評價機構", "New college evaluation orgs"),
}


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
            title = "每週活躍告警 Active alerts per week" + (f" · {cat.district_label(district)}" if district else "") + (
                f" · {rule}" if rule else "")
            out["weekly_chart"] = charts.line_chart(
                "weekly-chart", title, [f"{w:%m-%d}" for w in weeks],
                [(f"sev-{s}", f"{cat.SEVERITIES[s][0]} {cat.SEVERITIES[s][1]}", series[s]) for s in cat.SEVERITIES])
        out["targets"] = _targets(conn)
    return out


def _targets(conn) -> dict:
    try:
        with conn.transaction():
            if conn.execute("select to_regclass('marts.district_target_progress') is not null as ok"
                            ).fetchone()["ok"] is False:
                return {"notice": "目標進度數據尚未生成 marts.district_target_progress does not exist yet "
                                  "(built by the marts pipeline)."}
            rows = conn.execute(
                "select district_code, month, metric_code, month_value, ytd_value, annual_target, ytd_pct_of_target "
                "from marts.district_target_progress where month >= date '2024-01-01' and month < date '2025-01-01' "
                "order by month").fetchall()
    except psycopg.Error as err:
        log.warning("targets not readable: %s", err)
        return {"notice": "目標進度暫不可讀 Target progress is not readable yet ("
                          + type(err).__name__ + "): run `supervision roles` after the marts are built."}
    if not rows:
        return {"notice": "2024年尚無數據 No 2024 rows in marts.district_target_progress yet."}
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
            f"target-chart-{m}", f"{METRICS.get(m, (m, m))[0]} 累計 YTD", [f"{mo:%m}" for mo in months],
            [("ytd", "全市累計 city YTD", [float(city[mo]["ytd_value"]) if mo in city else 0.0 for mo in months]),
             ("pace", "按月進度 pro-rata target", [target * mo.month / 12 if target else 0.0 for mo in months])],
            target=target, height=220, fmt=lambda v: f"{v:,.0f}", width=520)
        bar = charts.progress_bar(f"progress-{m}", METRICS.get(m, (m, m))[0], ytd, target, pace) if target else None
        cards.append({"metric": m, "label": METRICS.get(m, (m, m)), "ytd": ytd, "target": target,
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
    return {"latest": latest, "pace": pace, "cards": cards, "metrics": metrics, "table": table}
