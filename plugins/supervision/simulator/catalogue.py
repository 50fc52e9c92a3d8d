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
    Occupation("4-10-01-05", "養老護理員", "life_service", True, 2.0),
    Occupation("4-10-01-02", "育嬰員", "life_service", False, 0.8),
    Occupation("4-10-01-03", "保育師", "life_service", False, 0.5),
    Occupation("4-10-01-06", "家政服務員", "life_service", False, 0.7),
    Occupation("4-10-03-01", "美容師", "life_service", False, 0.3),
    Occupation("4-10-03-02", "美髮師", "life_service", False, 0.3),
    Occupation("4-10-04-02", "保健按摩師", "life_service", False, 0.2),
    Occupation("4-03-02-01", "中式烹調師", "other", False, 4.0),
    Occupation("4-03-02-02", "中式麵點師", "other", False, 2.5),
    Occupation("4-03-02-03", "西式烹調師", "other", False, 1.0),
    Occupation("4-03-02-04", "西式麵點師", "other", False, 2.0),
    Occupation("4-03-01-02", "茶藝師", "other", False, 1.0),
    Occupation("4-07-03-02", "企業人力資源管理師", "other", False, 3.0),
    Occupation("4-01-06-02", "互聯網營銷師", "digital", True, 4.0),
    Occupation("4-04-05-05", "人工智能訓練師", "digital", True, 2.0),
    Occupation("4-04-04-02", "網絡與信息安全管理員", "digital", True, 2.0),
    Occupation("4-04-05-03", "數字化解決方案設計師", "digital", True, 1.0),
    Occupation("4-01-02-06", "電子商務師", "digital", False, 2.5),
    Occupation("4-04-05-04", "雲計算運維員", "digital", True, 1.0),
    Occupation("6-25-04-09", "物聯網安裝調試員", "digital", True, 1.0),
    Occupation("6-31-01-03", "電工", "manufacturing", True, 6.0),
    Occupation("6-18-02-04", "焊工", "manufacturing", True, 3.5),
    Occupation("6-18-01-01", "車工", "manufacturing", False, 1.5),
    Occupation("6-18-01-02", "銑工", "manufacturing", False, 1.0),
    Occupation("6-18-01-07", "多工序數控機床操作調整工", "manufacturing", True, 1.5),
    Occupation("6-20-01-01", "機修鉗工", "manufacturing", False, 1.5),
    Occupation("6-30-99-00", "工業機器人系統操作員", "manufacturing", True, 1.5),
    Occupation("6-31-01-06", "工業機器人系統運維員", "manufacturing", True, 1.0),
    Occupation("4-12-01-01", "汽車維修工", "manufacturing", False, 2.5),
    Occupation("6-24-01-04", "集成電路製造工", "manufacturing", True, 0.8),
    Occupation("6-07-06-05", "化學檢驗員", "manufacturing", False, 1.0),
    Occupation("4-07-05-02", "中央空調系統運行操作員", "other", False, 1.0),
    Occupation("4-02-07-06", "快遞員", "other", False, 2.0),
    Occupation("4-07-05-03", "保安員", "other", False, 2.5),
    Occupation("4-01-05-02", "物業管理員", "other", False, 1.0),
    Occupation("4-99-00-00", "無人機駕駛員", "digital", True, 0.8),
    Occupation("6-29-01-01", "砌築工", "construction", False, 1.0),
    Occupation("6-29-01-04", "鋼筋工", "construction", False, 1.0),
    Occupation("6-29-01-05", "架子工", "construction", False, 0.8),
    Occupation("6-29-02-01", "防水工", "construction", False, 0.6),
    Occupation("6-29-03-05", "裝飾裝修工", "construction", False, 1.2),
    Occupation("6-29-03-03", "電梯安裝維修工", "construction", True, 0.8),
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

ORG_KINDS = ("社會評價組織", "用人單位", "院校")
ORG_KIND_WEIGHTS = (0.45, 0.35, 0.20)

# District shares of training institutions (roughly population-weighted; 浦東新區 largest).
DISTRICT_WEIGHTS = {
    "310101": 0.035, "310104": 0.060, "310105": 0.035, "310106": 0.050, "310107": 0.050,
    "310109": 0.035, "310110": 0.050, "310112": 0.110, "310113": 0.085, "310114": 0.070,
    "310115": 0.200, "310116": 0.030, "310117": 0.080, "310118": 0.050, "310120": 0.045,
    "310151": 0.015,
}

ROADS = ("中山北路", "延安西路", "南京東路", "淮海中路", "肇嘉浜路", "四平路", "曹楊路", "共和新路", "滬太路",
         "莘松路", "博樂路", "張楊路", "世紀大道", "虹橋路", "漕寶路", "嘉松公路", "滬閔路", "石龍路",
         "人民路", "園區路", "城中路", "新松江路", "公園路", "南橋路", "八一路")
INSTITUTION_WORDS = ("職業技能培訓學校", "職業培訓中心", "技能培訓學校", "培訓中心", "職業技術學校")
NAME_PREFIXES = ("申城", "浦江", "海上", "東方", "明德", "啟航", "匠心", "新程", "恆信", "卓越", "博藝", "華夏",
                 "瑞豐", "正道", "長江", "錦繡", "宏圖", "創新", "興業", "致遠", "精工", "康寧", "智匯", "同濟")
ORG_WORDS = {"社會評價組織": "職業技能評價中心", "用人單位": "有限公司職業技能等級認定站", "院校": "職業技術學院"}
