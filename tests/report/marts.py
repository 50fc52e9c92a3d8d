"""Demo-like marts for the report's tests: the three marts the report reads, with the columns of the
dbt models (dbt_project/models/marts), filled as the demo fills them for the first quarter of 2024.

- ``district_target_progress``: every district x month of 2024 x metric, January to March with
  figures and the rest zero; the city row is the sum of the districts; annual_target and
  ytd_pct_of_target on the city rows, as the model computes them.
- ``institution_scorecard``: three institutions per district besides the review seed's Pudong
  school, risk_score and grade by the model's documented formula.
- ``evaluation_org_quality``: one org per district besides the seed's Huangpu org.
Names of the institutions and orgs go to the raw layer, where the report reads them.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import psycopg

from supervision.config import CITY_CODE, DISTRICTS

TZ = timezone(timedelta(hours=8))
TARGETS = {"subsidised_training": 800000, "new_skill_training": 120000, "life_service_training": 30000,
           "apprenticeship_training": 10000, "high_skill_certificates": 45000,
           "new_employer_evaluation_orgs": 30, "new_college_evaluation_orgs": 30}
# a district's typical month (the demo simulates about 2% of the city: these are the city's scale)
MONTHLY = {"subsidised_training": 4000, "new_skill_training": 600, "life_service_training": 150,
           "apprenticeship_training": 50, "high_skill_certificates": 220,
           "new_employer_evaluation_orgs": 1, "new_college_evaluation_orgs": 1}
DATA_MONTHS = 3

DDL = """
create table marts.district_target_progress (
    district_code text, month date, metric_code text, month_value bigint, ytd_value bigint,
    annual_target integer, ytd_pct_of_target numeric, has_data boolean not null default true);
create table marts.institution_scorecard (
    institution_id text, district_code text, month date, sessions_held bigint, onsite_sessions_held bigint,
    onsite_minutes bigint, camera_coverage_pct numeric, alerts_high bigint, alerts_medium bigint,
    alerts_low bigint, risk_score numeric, grade text);
create table marts.evaluation_org_quality (
    org_id text, district_code text, kind_code text, month date, exams bigint, candidates bigint, passes bigint,
    pass_rate numeric, baseline_pass_rate numeric, abnormal_pass_rate_alerts bigint, alerts_high bigint,
    alerts_medium bigint, alerts_low bigint);
"""


def _months() -> list[date]:
    return [date(2024, m, 1) for m in range(1, 13)]


def fill(url: str, seed: int = 2024) -> None:
    rnd = random.Random(seed)
    now = datetime(2024, 3, 1, tzinfo=TZ)
    with psycopg.connect(url) as conn:
        conn.execute(DDL)
        progress = []
        city: dict[tuple[date, str], int] = {}
        for code in DISTRICTS:
            for metric, typical in MONTHLY.items():
                ytd = 0
                for m in _months():
                    v = rnd.randint(typical // 2, typical * 3 // 2 + 1) if m.month <= DATA_MONTHS else 0
                    ytd += v
                    progress.append((code, m, metric, v, ytd, None, None))
                    city[(m, metric)] = city.get((m, metric), 0) + v
        for metric in MONTHLY:
            ytd = 0
            for m in _months():
                ytd += city[(m, metric)]
                pct = round(ytd * 100 / TARGETS[metric], 6)
                progress.append((CITY_CODE, m, metric, city[(m, metric)], ytd, TARGETS[metric], pct))
        with conn.cursor() as c:
            c.executemany("insert into marts.district_target_progress values (%s, %s, %s, %s, %s, %s, %s)", progress)

            cards, orgs, insts, raw_orgs = [], [], [], []
            for n, code in enumerate(DISTRICTS):
                ids = [f"INS-{code}-{k}" for k in range(1, 4)]
                if code == "310115":
                    ids.append("INS-PD-01")   # the review seed's school, with its alerts
                for k, iid in enumerate(ids, 1):
                    if iid != "INS-PD-01":
                        insts.append((iid, f"{DISTRICTS[code]}第{k}职业技能培训学校", f"9131{code}{k:04d}", "private",
                                      code, date(2020, 1, 1), date(2026, 12, 31), now))
                    for m in _months()[:4]:
                        held = rnd.randint(10, 60) if m.month <= DATA_MONTHS else 0
                        minutes = held * 180
                        cov = round(rnd.uniform(70, 100), 2) if held else None
                        hi, me, lo = (rnd.choice((0, 0, 1, 2)), rnd.randint(0, 4), rnd.randint(0, 6)) if held else (0, 0, 0)
                        score = round((10 * hi + 3 * me + lo) * 10.0 / max(held, 10) + (100 - cov if cov else 0) / 10.0, 2)
                        grade = "A" if score < 2 else "B" if score < 5 else "C" if score < 10 else "D"
                        cards.append((iid, code, m, held, held, minutes, cov, hi, me, lo, score, grade))
                oid = f"ORG-{code}-1"
                raw_orgs.append((oid, f"{DISTRICTS[code]}职业技能评价中心", "社会培训评价组织", code, ["6-01-01"],
                                 date(2022, 1, 1), None, date(2024, 1, 1), 1, n + 1))
                for org in ([oid, "ORG-HP-01"] if code == "310101" else [oid]):
                    for m in _months()[:4]:
                        cand = rnd.randint(20, 200)
                        passes = rnd.randint(cand // 3, cand)
                        hi, me = rnd.choice((0, 0, 1)), rnd.randint(1, 3)
                        orgs.append((org, code, "social", m, rnd.randint(1, 8), cand, passes,
                                     round(passes / cand, 4), 0.55, 1 if passes / cand > 0.95 else 0, hi, me, 0))
            c.executemany("insert into raw_training.institutions values (%s, %s, %s, %s, %s, %s, %s, %s)", insts)
            c.executemany("insert into raw_assessment.evaluation_orgs values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                          raw_orgs)
            c.executemany("insert into marts.institution_scorecard values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                          cards)
            c.executemany("insert into marts.evaluation_org_quality values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                          orgs)
        conn.commit()
