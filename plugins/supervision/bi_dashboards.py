"""Superset dashboards for the supervision teams and the city, as an import bundle (v1 export format).

Two dashboards over the marts datasets of ``supervision.bi_superset`` (same database and dataset ids):

* 目标进度与机构风险 Targets and risk: the districts' year-to-date progress on each 2024 target
  (latest month of data), the city's monthly completions, institutions by risk in the latest month;
* 告警与规则准确率 Alerts and rule precision: active alerts by rule per month, by district and rule,
  and each rule's precision as reviewers decided it (marts.rule_precision).

Every chart carries its ``query_context`` (what Superset's chart-data API runs), so a chart shows data
as soon as the bundle is imported. The dbt exposures ``superset_*`` (models/marts/_marts__models.yml)
declare what each dashboard reads.
"""
from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

from supervision.bi_superset import DATABASE_NAME, NAMESPACE, ROOT, datasets_bundle

ROW_LIMIT = 1000


def _filter(col: str, op: str, val: Any = None) -> dict:
    f = {"col": col, "op": op}
    if val is not None:
        f["val"] = val
    return f


def _adhoc_filter(col: str, op: str, val: Any = None) -> dict:
    f = {"expressionType": "SIMPLE", "clause": "WHERE", "subject": col, "operator": op}
    if val is not None:
        f["comparator"] = val
    return f


def _sql_filter(sql: str) -> dict:
    return {"expressionType": "SQL", "clause": "WHERE", "sqlExpression": sql}


def _metric(label: str, sql: str) -> dict:
    return {"expressionType": "SQL", "sqlExpression": sql, "label": label}


# (key, dataset, viz_type, title, groupby, metrics, filters as (col, op, val) or SQL text, order by metric,
#  time axis or None)
CHARTS: list[dict[str, Any]] = [
    {"key": "target_progress", "table": "district_target_progress", "viz": "table",
     "title": "各区目标累计（最新数据月） Districts' year-to-date, latest month of data",
     "groupby": ["district_code", "metric_code"], "metrics": [_metric("ytd", "SUM(ytd_value)")],
     "where": ["is_latest_month", "not is_city_total"]},
    {"key": "city_monthly", "table": "district_target_progress", "viz": "table",
     "title": "全市每月完成情况 The city's figures by month",
     "groupby": ["month", "metric_code"],
     "metrics": [_metric("month_value", "SUM(month_value)"), _metric("ytd_pct_of_target", "MAX(ytd_pct_of_target)")],
     "where": ["has_data", "is_city_total"]},
    {"key": "institution_risk", "table": "institution_scorecard", "viz": "table",
     "title": "机构风险（最新数据月） Institutions by risk, latest month of data",
     "groupby": ["institution_id", "district_code", "grade"], "metrics": [_metric("risk_score", "MAX(risk_score)")],
     "where": ["is_latest_month"]},
    {"key": "alerts_by_rule_month", "table": "supervision_alerts", "viz": "table",
     "title": "各规则每月活跃告警 Active alerts by rule and month",
     "groupby": ["rule_code"], "time": "occurred_on", "metrics": [_metric("alerts", "COUNT(*)")],
     "where": ["is_active"]},
    {"key": "alerts_by_district", "table": "supervision_alerts", "viz": "table",
     "title": "各区各规则活跃告警 Active alerts by district and rule",
     "groupby": ["district_code", "rule_code"], "metrics": [_metric("alerts", "COUNT(*)")], "where": ["is_active"]},
    {"key": "rule_precision", "table": "rule_precision", "viz": "table",
     "title": "规则准确率 Rule precision as reviewers decided",
     "groupby": ["rule_code"],
     "metrics": [_metric("confirmed", "SUM(confirmed_alerts)"), _metric("dismissed", "SUM(dismissed_alerts)"),
                 _metric("open", "SUM(open_alerts)"),
                 _metric("precision_pct",
                         "ROUND(100.0 * SUM(confirmed_alerts) / NULLIF(SUM(decided_alerts), 0), 1)")],
     "where": []},
]

DASHBOARDS: list[dict[str, Any]] = [
    {"slug": "supervision-targets-risk", "title": "目标进度与机构风险 Targets and institution risk",
     "charts": ["target_progress", "city_monthly", "institution_risk"]},
    {"slug": "supervision-alerts-precision", "title": "告警与规则准确率 Alerts and rule precision",
     "charts": ["alerts_by_rule_month", "alerts_by_district", "rule_precision"]},
]


def _uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def _chart(c: dict[str, Any]) -> dict[str, Any]:
    columns: list[Any] = list(c["groupby"])
    if c.get("time"):
        columns.insert(0, {"columnType": "BASE_AXIS", "sqlExpression": c["time"], "label": c["time"],
                           "expressionType": "SQL", "timeGrain": "P1M"})
    where = " AND ".join(f"({w})" for w in c["where"])
    params = {
        "viz_type": c["viz"], "query_mode": "aggregate", "groupby": c["groupby"], "metrics": c["metrics"],
        "adhoc_filters": [_sql_filter(where)] if where else [], "row_limit": ROW_LIMIT,
        "order_desc": True, "server_pagination": False, "time_grain_sqla": "P1M" if c.get("time") else None,
        "temporal_columns_lookup": {c["time"]: True} if c.get("time") else {},
    }
    if c.get("time"):
        params["groupby"] = [columns[0], *c["groupby"]]
    query = {
        "columns": columns, "metrics": c["metrics"], "orderby": [[c["metrics"][0], False]],
        "filters": [], "extras": {"where": where, "having": ""}, "row_limit": ROW_LIMIT,
        "annotation_layers": [], "series_limit": 0, "url_params": {}, "custom_params": {}, "custom_form_data": {},
    }
    query_context = {"datasource": {"id": 0, "type": "table"}, "force": False, "queries": [query],
                     "form_data": params, "result_format": "json", "result_type": "full"}
    return {
        "slice_name": c["title"], "description": None, "certified_by": None, "certification_details": None,
        "viz_type": c["viz"], "params": params, "query_context": json.dumps(query_context, ensure_ascii=False),
        "cache_timeout": None, "uuid": _uuid("chart", c["key"]), "version": "1.0.0",
        "dataset_uuid": str(uuid.uuid5(NAMESPACE, f"{DATABASE_NAME}.marts.{c['table']}")),
    }


def _dashboard(d: dict[str, Any], charts: dict[str, dict]) -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": d["title"]}},
    }
    for i, key in enumerate(d["charts"], 1):
        row, chart_id = f"ROW-{i}", f"CHART-{key}"
        position["GRID_ID"]["children"].append(row)
        position[row] = {"type": "ROW", "id": row, "children": [chart_id], "parents": ["ROOT_ID", "GRID_ID"],
                         "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        position[chart_id] = {"type": "CHART", "id": chart_id, "children": [], "parents": ["ROOT_ID", "GRID_ID", row],
                              "meta": {"width": 12, "height": 60, "chartId": i, "uuid": charts[key]["uuid"],
                                       "sliceName": charts[key]["slice_name"]}}
    return {"dashboard_title": d["title"], "description": None, "css": "", "slug": d["slug"],
            "certified_by": None, "certification_details": None, "published": True,
            "uuid": _uuid("dashboard", d["slug"]), "position": position,
            "metadata": {"color_scheme": "supersetColors", "refresh_frequency": 0, "expanded_slices": {},
                         "timed_refresh_immune_slices": [], "cross_filters_enabled": True,
                         "native_filter_configuration": []},
            "version": "1.0.0"}


def dashboards_bundle(warehouse_url: str, out: Path, host: str | None = None, port: int | None = None,
                      with_password: bool = False) -> Path:
    """Write the dashboards, their charts and the marts datasets (with descriptions) as one import bundle
    (``with_password``: see ``bi_superset.datasets_bundle``)."""
    datasets = out.with_suffix(".datasets.zip")
    datasets_bundle(warehouse_url, datasets, host=host, port=port, with_password=with_password)
    charts = {c["key"]: _chart(c) for c in CHARTS}
    with zipfile.ZipFile(datasets) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in src.namelist():
            data = src.read(name)
            if name == f"{ROOT}/metadata.yaml":
                meta = json.loads(data)
                data = json.dumps({**meta, "type": "Dashboard"}, indent=2).encode()
            z.writestr(name, data)
        for key, chart in charts.items():
            z.writestr(f"{ROOT}/charts/{key}.yaml", json.dumps(chart, ensure_ascii=False, indent=2))
        for d in DASHBOARDS:
            z.writestr(f"{ROOT}/dashboards/{d['slug']}.yaml",
                       json.dumps(_dashboard(d, charts), ensure_ascii=False, indent=2))
    datasets.unlink()
    return out
