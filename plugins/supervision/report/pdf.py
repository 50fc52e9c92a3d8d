"""The monthly report as a PDF (fpdf2), its Chinese set in Noto Sans SC, embedded.

The font comes from the PyPI package ``pylopdf-fonts-zh-cn`` (Noto Sans SC Regular, SIL Open Font
License 1.1, which allows embedding in documents). fpdf2 embeds only the glyphs the report uses
(a subset), so a report is tens of kilobytes, not the font's 8 MB.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode

from supervision.config import CITY_CODE
from supervision.report import labels
from supervision.report.data import MonthlyReport

FONT = "NotoSansSC"
HEAD = FontFace(emphasis="BOLD", fill_color=(221, 230, 242))
ZEBRA = (246, 248, 251)
PDF_CASES_MAX = 200     # confirmed cases listed in the PDF; the XLSX lists them all


def font_path() -> str:
    """Noto Sans SC Regular (OFL 1.1) as shipped in the ``pylopdf-fonts-zh-cn`` package."""
    import pylopdf_fonts_zh_cn

    return str(pylopdf_fonts_zh_cn.sans_path())


def fmt_int(v: Any) -> str:
    return "—" if v is None else f"{v:,}" if isinstance(v, int) else f"{v:,.2f}"


def fmt_pct(v: Any) -> str:
    return "—" if v is None else f"{float(v):.2f}%"


def fmt_rate(v: Any) -> str:
    """A share (0..1) as a percentage."""
    return "—" if v is None else f"{100 * float(v):.1f}%"


def fmt_hours(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


class _Doc(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.footer_text = footer_text
        path = font_path()
        # one face for both styles: table headings ask for bold, the fill colour marks them instead
        self.add_font(FONT, "", path)
        self.add_font(FONT, "B", path)
        self.set_auto_page_break(True, margin=14)
        self.set_margins(12, 12, 12)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, size=8)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.footer_text}    第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")
        self.set_text_color(0)


def _heading(pdf: _Doc, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, size=13)
    pdf.set_text_color(20, 50, 100)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.set_font(FONT, size=9)


def _table(pdf: _Doc, header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float],
           align: Sequence[str]) -> None:
    if not rows:
        pdf.set_font(FONT, size=9)
        pdf.cell(0, 6, "本月无。", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font(FONT, size=8.5)
    with pdf.table(col_widths=tuple(widths), text_align=tuple(align), headings_style=HEAD, line_height=5,
                   cell_fill_color=ZEBRA, cell_fill_mode=TableCellFillMode.ROWS, padding=1) as t:
        t.row(list(header))
        for r in rows:
            t.row([str(c) for c in r])
    pdf.set_font(FONT, size=9)


def target_table(rep: MonthlyReport) -> tuple[list[str], list[list[str]]]:
    """The targets section's header and rows, as shown (also what the tests look for)."""
    if rep.is_city:
        header = ["指标", "单位", "本月", "本年累计", "年度目标", "完成率", "序时进度"]
        rows = [[t.name, t.unit, fmt_int(t.month_value), fmt_int(t.ytd_value), fmt_int(t.annual_target),
                 fmt_pct(t.pct_of_target), fmt_pct(rep.schedule_pct)] for t in rep.targets]
    else:
        header = ["指标", "单位", "本月", "本年累计", "全市年度目标", "占全市目标", "全市完成率", "序时进度"]
        rows = [[t.name, t.unit, fmt_int(t.month_value), fmt_int(t.ytd_value), fmt_int(t.annual_target),
                 fmt_pct(t.pct_of_target), fmt_pct(t.city_pct_of_target), fmt_pct(rep.schedule_pct)]
                for t in rep.targets]
    return header, rows


def render_pdf(rep: MonthlyReport) -> bytes:
    """The report as PDF bytes (A4 landscape)."""
    where = f"{rep.scope_name}（{rep.scope}）"
    pdf = _Doc(f"{labels.TITLE} · {where} · {labels.month_label(rep.month)}")
    pdf.set_title(f"{labels.TITLE} {where} {labels.month_label(rep.month)}")
    pdf.set_author("supervision")
    pdf.set_lang("zh-CN")
    pdf.add_page()
    pdf.set_font(FONT, size=18)
    pdf.cell(0, 11, labels.TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=12)
    pdf.cell(0, 8, f"{where}　{labels.month_label(rep.month)}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(90)
    pdf.cell(0, 5, f"生成时间：{rep.generated_at:%Y-%m-%d %H:%M}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)

    _heading(pdf, labels.SECTIONS["targets"])
    header, rows = target_table(rep)
    widths = (58, 14, 26, 30, 30, 26, 26, 24) if not rep.is_city else (66, 16, 30, 34, 34, 30, 30)
    _table(pdf, header, rows, widths[:len(header)], ("LEFT", "CENTER", *["RIGHT"] * (len(header) - 2)))

    _heading(pdf, labels.SECTIONS["alerts"])
    t = rep.total
    pdf.cell(0, 6, f"本月告警 {t.raised if t else 0} 条：已处理 {t.decided if t else 0} 条"
                   f"（确认 {t.confirmed if t else 0}、误报 {t.dismissed if t else 0}、解决 {t.resolved if t else 0}），"
                   f"待处理 {t.open if t else 0} 条，已撤销 {t.withdrawn if t else 0} 条；"
                   f"处理用时中位数 {fmt_hours(t.median_hours if t else None)} 小时。",
             new_x="LMARGIN", new_y="NEXT")
    rule_rows = [[r.name, r.rule_code, labels.SEVERITIES.get(r.severity, r.severity), r.raised, r.decided,
                  r.confirmed, r.dismissed, r.resolved, r.open, r.withdrawn, fmt_hours(r.median_hours),
                  fmt_hours(r.mean_hours)] for r in rep.rules]
    if rep.rules and t:
        rule_rows.append([t.name, "", "", t.raised, t.decided, t.confirmed, t.dismissed, t.resolved, t.open,
                          t.withdrawn, fmt_hours(t.median_hours), fmt_hours(t.mean_hours)])
    _table(pdf, ["规则", "代码", "级别", "新增", "已处理", "确认", "误报", "解决", "待处理", "已撤销",
                 "用时中位数(时)", "平均用时(时)"], rule_rows,
           (52, 50, 12, 15, 15, 15, 15, 15, 16, 16, 26, 26), ("LEFT", "LEFT", "CENTER", *["RIGHT"] * 9))

    if rep.is_city:
        _heading(pdf, labels.SECTIONS["districts"])
        _table(pdf, ["区", "代码", "新增", "已处理", "确认", "待处理"],
               [[d.name, d.district_code, d.raised, d.decided, d.confirmed, d.open] for d in rep.districts],
               (60, 30, 30, 30, 30, 30), ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))

    _heading(pdf, labels.SECTIONS["institutions"])
    _table(pdf, ["机构", "编号", "区", "风险分", "等级", "原因"],
           [[i.name or "", i.institution_id, labels.scope_name(i.district_code), fmt_int(i.risk_score),
             labels.GRADES.get(i.grade or "", i.grade or ""), i.why] for i in rep.institutions],
           (52, 28, 20, 18, 24, 131), ("LEFT", "LEFT", "LEFT", "RIGHT", "LEFT", "LEFT"))

    _heading(pdf, labels.SECTIONS["orgs"])
    _table(pdf, ["评价机构", "编号", "区", "类别", "考试场次", "考生", "风险分", "原因"],
           [[o.name or "", o.org_id, labels.scope_name(o.district_code), o.kind, o.exams, o.candidates,
             fmt_int(o.risk_score), o.why] for o in rep.orgs],
           (48, 26, 18, 24, 16, 16, 16, 109), ("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT"))

    _heading(pdf, labels.SECTIONS["cases"] + f"（{len(rep.cases)} 件）")
    _table(pdf, ["规则", "级别", "区", "发生日期", "涉及对象", "所涉机构", "确认人", "确认时间", "意见"],
           [[c.name, labels.SEVERITIES.get(c.severity, c.severity), labels.scope_name(c.district_code)
             if c.district_code != CITY_CODE else "市级", f"{c.occurred_on:%Y-%m-%d}", c.entity_key, c.subject,
             c.confirmed_by or "", f"{c.confirmed_at:%Y-%m-%d %H:%M}" if c.confirmed_at else "", c.comment or ""]
            for c in rep.cases[:PDF_CASES_MAX]],
           (36, 12, 18, 22, 40, 44, 22, 30, 49), ("LEFT", "CENTER", *["LEFT"] * 7))
    if len(rep.cases) > PDF_CASES_MAX:
        pdf.cell(0, 6, f"另有 {len(rep.cases) - PDF_CASES_MAX} 件，见 Excel 附件“已确认案件”表。",
                 new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, labels.SECTIONS["notes"])
    pdf.set_font(FONT, size=8.5)
    for n, note in enumerate(labels.NOTES, 1):
        pdf.multi_cell(0, 5, f"{n}. {note}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
