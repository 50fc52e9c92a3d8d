"""Fixed reference lists: occupations (national occupational classification codes, names as the
contract writes them), and the other vocabularies of the simulated world."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Occupation:
    code: str
    name: str
    category: str   # manufacturing | digital | life_service | construction | other
    urgent: bool    # on the urgent-shortage catalogue
    weight: float   # relative share of training classes


# Occupations trained on the platform (a selection of the 2022 classification).
OCCUPATIONS: tuple[Occupation, ...] = (
    Occupation("4-10-01-05", "养老护理员", "life_service", True, 2.0),
    Occupation("4-10-01-02", "育婴员", "life_service", False, 0.8),
    Occupation("4-10-01-03", "保育师", "life_service", False, 0.5),
    Occupation("4-10-01-06", "家政服务员", "life_service", False, 0.7),
    Occupation("4-10-03-01", "美容师", "life_service", False, 0.3),
    Occupation("4-10-03-02", "美发师", "life_service", False, 0.3),
    Occupation("4-10-04-02", "保健按摩师", "life_service", False, 0.2),
    Occupation("4-03-02-01", "中式烹调师", "other", False, 4.0),
    Occupation("4-03-02-02", "中式面点师", "other", False, 2.5),
    Occupation("4-03-02-03", "西式烹调师", "other", False, 1.0),
    Occupation("4-03-02-04", "西式面点师", "other", False, 2.0),
    Occupation("4-03-01-02", "茶艺师", "other", False, 1.0),
    Occupation("4-07-03-02", "企业人力资源管理师", "other", False, 3.0),
    Occupation("4-01-06-02", "互联网营销师", "digital", True, 4.0),
    Occupation("4-04-05-05", "人工智能训练师", "digital", True, 2.0),
    Occupation("4-04-04-02", "网络与信息安全管理员", "digital", True, 2.0),
    Occupation("4-04-05-03", "数字化解决方案设计师", "digital", True, 1.0),
    Occupation("4-01-02-06", "电子商务师", "digital", False, 2.5),
    Occupation("4-04-05-04", "云计算运维员", "digital", True, 1.0),
    Occupation("6-25-04-09", "物联网安装调试员", "digital", True, 1.0),
    Occupation("6-31-01-03", "电工", "manufacturing", True, 6.0),
    Occupation("6-18-02-04", "焊工", "manufacturing", True, 3.5),
    Occupation("6-18-01-01", "车工", "manufacturing", False, 1.5),
    Occupation("6-18-01-02", "铣工", "manufacturing", False, 1.0),
    Occupation("6-18-01-07", "多工序数控机床操作调整工", "manufacturing", True, 1.5),
    Occupation("6-20-01-01", "机修钳工", "manufacturing", False, 1.5),
    Occupation("6-30-99-00", "工业机器人系统操作员", "manufacturing", True, 1.5),
    Occupation("6-31-01-06", "工业机器人系统运维员", "manufacturing", True, 1.0),
    Occupation("4-12-01-01", "汽车维修工", "manufacturing", False, 2.5),
    Occupation("6-24-01-04", "集成电路制造工", "manufacturing", True, 0.8),
    Occupation("6-07-06-05", "化学检验员", "manufacturing", False, 1.0),
    Occupation("4-07-05-02", "中央空调系统运行操作员", "other", False, 1.0),
    Occupation("4-02-07-06", "快递员", "other", False, 2.0),
    Occupation("4-07-05-03", "保安员", "other", False, 2.5),
    Occupation("4-01-05-02", "物业管理员", "other", False, 1.0),
    Occupation("4-99-00-00", "无人机驾驶员", "digital", True, 0.8),
    Occupation("6-29-01-01", "砌筑工", "construction", False, 1.0),
    Occupation("6-29-01-04", "钢筋工", "construction", False, 1.0),
    Occupation("6-29-01-05", "架子工", "construction", False, 0.8),
    Occupation("6-29-02-01", "防水工", "construction", False, 0.6),
    Occupation("6-29-03-05", "装饰装修工", "construction", False, 1.2),
    Occupation("6-29-03-03", "电梯安装维修工", "construction", True, 0.8),
)

# Occupations the evaluation platform certifies but no institution trains on the platform. Their
# (occupation, level) pairs are used only by the ABNORMAL_PASS_RATE scenarios, so that background
# exams never enter those scenarios' baselines.
EXAM_ONLY_OCCUPATIONS: tuple[str, ...] = (
    "4-02-01-01", "4-06-01-01", "4-11-01-01", "4-13-01-01",
    "5-01-02-01", "5-05-01-02", "6-01-01-01", "6-02-06-01",
)

INSTITUTION_KINDS = ("private", "public", "enterprise", "college", "foreign")
INSTITUTION_KIND_WEIGHTS = (0.62, 0.12, 0.14, 0.10, 0.02)
PROGRAMMES = ("standard", "new_skill", "apprenticeship")
PROGRAMME_WEIGHTS = (0.854, 0.12, 0.026)   # calibrated to the 2024 targets (MARTS.md)
LEVELS = (5, 4, 3, 2, 1)
LEVEL_WEIGHTS = (0.56, 0.38, 0.04, 0.017, 0.003)
SUBSIDY_BY_LEVEL = {5: 1000, 4: 1500, 3: 2000, 2: 2500, 1: 3000}

# in the contract table's form; each file writes them in its own script (formats.in_script)
ORG_KINDS = ("社會評價組織", "用人單位", "院校")
ORG_KIND_WEIGHTS = (0.45, 0.35, 0.20)

# District shares of training institutions (roughly population-weighted; 浦东新区 largest).
DISTRICT_WEIGHTS = {
    "310101": 0.035, "310104": 0.060, "310105": 0.035, "310106": 0.050, "310107": 0.050,
    "310109": 0.035, "310110": 0.050, "310112": 0.110, "310113": 0.085, "310114": 0.070,
    "310115": 0.200, "310116": 0.030, "310117": 0.080, "310118": 0.050, "310120": 0.045,
    "310151": 0.015,
}

ROADS = ("中山北路", "延安西路", "南京东路", "淮海中路", "肇嘉浜路", "四平路", "曹杨路", "共和新路", "沪太路",
         "莘松路", "博乐路", "张杨路", "世纪大道", "虹桥路", "漕宝路", "嘉松公路", "沪闵路", "石龙路",
         "人民路", "园区路", "城中路", "新松江路", "公园路", "南桥路", "八一路")
INSTITUTION_WORDS = ("职业技能培训学校", "职业培训中心", "技能培训学校", "培训中心", "职业技术学校")
NAME_PREFIXES = ("申城", "浦江", "海上", "东方", "明德", "启航", "匠心", "新程", "恒信", "卓越", "博艺", "华夏",
                 "瑞丰", "正道", "长江", "锦绣", "宏图", "创新", "兴业", "致远", "精工", "康宁", "智汇", "同济")
ORG_WORDS = {"社會評價組織": "职业技能评价中心", "用人單位": "有限公司职业技能等级认定站", "院校": "职业技术学院"}
