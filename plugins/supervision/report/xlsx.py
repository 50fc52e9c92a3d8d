"""The monthly report as an Excel workbook (openpyxl): one sheet per section, figures as numbers.

Figures keep the marts' full precision (a percentage cell holds 0.711234 and is shown as 0.71),
so a reader can compute with them; percentages are in percent, as in the marts.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from supervision.config import CITY_CODE
from supervision.report import labels
from supervision.report.data import MonthlyReport

HEAD_FILL = PatternFill("solid", fgColor="DDE6F2")
BOLD = Font(bold=True)
INT = "#,##0"
DEC = "#,##0.00"
HOURS = "0.0"
RATE = "0.0%"


def _sheet(wb: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]],
           formats: Sequence[str | None], widths: Sequence[int]) -> None:
    ws = wb.create_sheet(title)
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = BOLD
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for r in rows:
        ws.append(list(r))
    for col, (fmt, width) in enumerate(zip(formats, widths, strict=True), 1):
        ws.column_dimensions[get_column_letter(col)].width = width
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = fmt
    ws.freeze_panes = "A2"


def render_xlsx(rep: MonthlyReport) -> bytes:
    """The report as .xlsx bytes."""
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = "概要"
    t = rep.total
    for row in ([labels.TITLE], [],
                ["范围", f"{rep.scope_name}（{rep.scope}）"], ["月份", labels.month_label(rep.month)],
                ["月份（首日）", rep.month], ["生成时间", rep.generated_at.replace(tzinfo=None)],
                ["本月告警", t.raised if t else 0], ["已处理", t.decided if t else 0],
                ["待处理", t.open if t else 0], ["已确认案件", len(rep.cases)],
                ["处理用时中位数（小时）", t.median_hours if t else None], ["序时进度（%）", rep.schedule_pct], [],
                [labels.SECTIONS["notes"]], *([f"{n}. {note}"] for n, note in enumerate(labels.NOTES, 1))):
        info.append(row)
    info["A1"].font = Font(bold=True, size=14)
    info["B5"].number_format = "yyyy-mm-dd"
    info["B6"].number_format = "yyyy-mm-dd hh:mm"
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 30

    if rep.is_city:
        _sheet(wb, "目标进度", ["指标代码", "指标", "单位", "本月", "本年累计", "年度目标", "完成率（%）", "序时进度（%）"],
               [[x.metric_code, x.name, x.unit, x.month_value, x.ytd_value, x.annual_target, x.pct_of_target,
                 rep.schedule_pct] for x in rep.targets],
               [None, None, None, INT, INT, INT, DEC, DEC], [30, 24, 8, 12, 14, 14, 14, 14])
    else:
        _sheet(wb, "目标进度", ["指标代码", "指标", "单位", "本月", "本年累计", "全市年度目标", "占全市目标（%）",
                                "全市完成率（%）", "序时进度（%）"],
               [[x.metric_code, x.name, x.unit, x.month_value, x.ytd_value, x.annual_target, x.pct_of_target,
                 x.city_pct_of_target, rep.schedule_pct] for x in rep.targets],
               [None, None, None, INT, INT, INT, DEC, DEC, DEC], [30, 24, 8, 12, 14, 14, 16, 16, 14])

    rule_rows: list[list[Any]] = [
        [r.rule_code, r.name, labels.SEVERITIES.get(r.severity, r.severity), r.raised, r.decided, r.confirmed,
         r.dismissed, r.resolved, r.open, r.withdrawn, r.median_hours, r.mean_hours] for r in rep.rules]
    if rep.rules and t:
        rule_rows.append(["", t.name, "", t.raised, t.decided, t.confirmed, t.dismissed, t.resolved, t.open,
                          t.withdrawn, t.median_hours, t.mean_hours])
    _sheet(wb, "告警按规则", ["规则代码", "规则", "级别", "新增", "已处理", "确认", "误报", "解决", "待处理", "已撤销",
                              "处理用时中位数（小时）", "平均处理用时（小时）"], rule_rows,
           [None, None, None, INT, INT, INT, INT, INT, INT, INT, HOURS, HOURS],
           [26, 20, 6, 8, 8, 8, 8, 8, 8, 8, 14, 14])

    if rep.is_city:
        _sheet(wb, "各区告警", ["区代码", "区", "新增", "已处理", "确认", "待处理"],
               [[d.district_code, d.name, d.raised, d.decided, d.confirmed, d.open] for d in rep.districts],
               [None, None, INT, INT, INT, INT], [10, 20, 10, 10, 10, 10])

    _sheet(wb, "高风险培训机构", ["机构编号", "机构", "区", "风险分", "等级", "开课次数", "摄像头覆盖率（%）",
                                  "高风险告警", "中风险告警", "低风险告警", "主要告警", "原因"],
           [[i.institution_id, i.name, labels.scope_name(i.district_code), i.risk_score, i.grade, i.sessions_held,
             i.camera_coverage_pct, i.alerts_high, i.alerts_medium, i.alerts_low, i.top_rules, i.why]
            for i in rep.institutions],
           [None, None, None, DEC, None, INT, DEC, INT, INT, INT, None, None],
           [14, 28, 10, 10, 6, 10, 14, 10, 10, 10, 36, 60])

    _sheet(wb, "高风险评价机构", ["机构编号", "评价机构", "区", "类别", "考试场次", "考生", "合格率", "基线合格率",
                                  "合格率异常告警", "高风险告警", "中风险告警", "低风险告警", "风险分", "主要告警", "原因"],
           [[o.org_id, o.name, labels.scope_name(o.district_code), o.kind, o.exams, o.candidates, o.pass_rate,
             o.baseline_pass_rate, o.abnormal_pass_rate_alerts, o.alerts_high, o.alerts_medium, o.alerts_low,
             o.risk_score, o.top_rules, o.why] for o in rep.orgs],
           [None, None, None, None, INT, INT, RATE, RATE, INT, INT, INT, INT, DEC, None, None],
           [14, 28, 10, 14, 10, 8, 10, 10, 12, 10, 10, 10, 8, 36, 60])

    _sheet(wb, "已确认案件", ["告警编号", "规则代码", "规则", "级别", "区", "发生日期", "涉及对象", "所涉机构",
                              "确认人", "确认时间", "意见"],
           [[c.alert_id, c.rule_code, c.name, labels.SEVERITIES.get(c.severity, c.severity),
             "市级" if c.district_code == CITY_CODE else labels.scope_name(c.district_code), c.occurred_on,
             c.entity_key, c.subject, c.confirmed_by,
             c.confirmed_at.replace(tzinfo=None) if c.confirmed_at else None, c.comment] for c in rep.cases],
           [None, None, None, None, None, "yyyy-mm-dd", None, None, None, "yyyy-mm-dd hh:mm", None],
           [22, 22, 18, 6, 10, 12, 30, 30, 12, 16, 40])

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
