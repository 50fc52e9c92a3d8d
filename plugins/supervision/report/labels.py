"""The report's words, in Simplified Chinese: section titles, metrics, statuses, names of places.

Rule labels come from the one rule catalogue (``supervision.catalogue``) and district names from
``supervision.config.DISTRICTS``, so the report names things as the rest of the platform does.
"""
from __future__ import annotations

from datetime import date

from supervision.catalogue import RULES
from supervision.config import CITY_CODE, DISTRICTS

TITLE = "上海市职业技能培训与评价监管 月度督导报告"
CITY_NAME = "全市"

# metric_code of marts.district_target_progress: (name, unit), in the work plan's order
METRICS: dict[str, tuple[str, str]] = {
    "subsidised_training": ("补贴性职业技能培训", "人次"),
    "new_skill_training": ("新职业（新技能）培训", "人次"),
    "life_service_training": ("生活服务业技能培训", "人次"),
    "apprenticeship_training": ("企业新型学徒制培训", "人"),
    "high_skill_certificates": ("高级工及以上证书", "本"),
    "new_employer_evaluation_orgs": ("新增用人单位评价机构", "家"),
    "new_college_evaluation_orgs": ("新增院校评价机构", "家"),
}

SEVERITIES = {"high": "高", "medium": "中", "low": "低"}
ORG_KINDS = {"social": "社会评价组织", "employer": "用人单位", "college": "院校"}
GRADES = {"A": "A（优）", "B": "B（良）", "C": "C（关注）", "D": "D（重点监管）"}

SECTIONS = {
    "targets": "一、2024年目标任务进度",
    "alerts": "二、告警情况（按规则）",
    "districts": "各区告警情况",
    "institutions": "三、风险较高的培训机构",
    "orgs": "四、风险较高的评价机构",
    "cases": "五、已确认案件",
    "notes": "说明",
}

NOTES = (
    "告警按其事件发生日期（上海时间）归入月份；处理状态为报告生成时的状态。",
    "已处理 = 已确认 + 误报 + 已解决；待处理 = 仍有效且未处理；已撤销 = 源数据更正后规则不再命中、未经处理。",
    "处理用时：自首次发现告警至首次处理（确认、误报或解决）的小时数。",
    "区级报告中“占全市目标”为本区累计值占全市年度目标的比例；“全市完成率”取全市行。序时进度 = 月份 / 12。",
    "培训机构风险分与等级取自 marts.institution_scorecard（分越高风险越大，A 优 … D 重点监管）；"
    "评价机构按告警加权分（高 10、中 3、低 1）及合格率高出基线的幅度排序。",
)


def scope_name(scope: str) -> str:
    """A district's name, or 全市 for the city (310000)."""
    return CITY_NAME if scope == CITY_CODE else DISTRICTS.get(scope, scope)


def rule_name(code: str) -> str:
    r = RULES.get(code)
    return r.label_zh if r else code


def month_label(month: date) -> str:
    return f"{month.year}年{month.month}月"
