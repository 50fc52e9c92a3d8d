"""Fixtures for the BI-access tests: a warehouse with roles synced, and connections as a given role.

Roles are cluster-wide: every test here runs ``sync_roles`` on its own fresh database of the test
session's private server, with the role passwords kept in a temporary secrets file.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

# Stand-ins for dbt marts (MARTS.md and the BI additions), made only where the dbt models are not
# built: enough for the index and comment checks and the examples of docs/BI.md. Everything else iterates over whatever schema marts holds.
STANDIN_MARTS = {
    "district_target_progress": """
        create table if not exists marts.district_target_progress (
            district_code text not null, month date not null, metric_code text not null,
            month_value numeric not null, ytd_value numeric not null, annual_target numeric,
            ytd_pct_of_target numeric, has_data boolean not null default true,
            is_city_total boolean generated always as (district_code = '310000') stored);
        comment on table marts.district_target_progress is 'Stand-in: progress against the 2024 targets by district, month and metric.';
        comment on column marts.district_target_progress.district_code is 'District code, or 310000 for the city.';
        comment on column marts.district_target_progress.month is 'First day of the local month.';
        comment on column marts.district_target_progress.metric_code is 'Metric, e.g. subsidised_training.';
        comment on column marts.district_target_progress.month_value is 'The metric within the month.';
        comment on column marts.district_target_progress.ytd_value is 'The metric from 1 January to the end of the month.';
        comment on column marts.district_target_progress.annual_target is 'The city target of the year (city rows of 2024).';
        comment on column marts.district_target_progress.ytd_pct_of_target is 'ytd_value / annual_target x 100.';
        comment on column marts.district_target_progress.has_data is 'The month lies in the months the sources hold data for.';
        comment on column marts.district_target_progress.is_city_total is 'The city row (sum of the districts).';
    """,
    "institution_scorecard": """
        create table if not exists marts.institution_scorecard (
            institution_id text not null, district_code text not null, month date not null,
            sessions_held integer not null, camera_coverage_pct numeric, alerts_high integer not null,
            alerts_medium integer not null, alerts_low integer not null, risk_score numeric, grade text);
        comment on table marts.institution_scorecard is 'Stand-in: one row per training institution and month.';
        comment on column marts.institution_scorecard.institution_id is 'Training institution.';
        comment on column marts.institution_scorecard.district_code is 'District of the institution.';
        comment on column marts.institution_scorecard.month is 'First day of the local month.';
        comment on column marts.institution_scorecard.sessions_held is 'Held sessions.';
        comment on column marts.institution_scorecard.camera_coverage_pct is 'Share of held onsite minutes covered.';
        comment on column marts.institution_scorecard.alerts_high is 'Active high alerts.';
        comment on column marts.institution_scorecard.alerts_medium is 'Active medium alerts.';
        comment on column marts.institution_scorecard.alerts_low is 'Active low alerts.';
        comment on column marts.institution_scorecard.risk_score is 'Risk score.';
        comment on column marts.institution_scorecard.grade is 'A best ... D worst.';
    """,
    "evaluation_org_quality": """
        create table if not exists marts.evaluation_org_quality (
            org_id text not null, district_code text not null, kind_code text, month date not null,
            exams integer not null, candidates integer not null, passes integer not null, pass_rate numeric,
            baseline_pass_rate numeric, abnormal_pass_rate_alerts integer not null, alerts_high integer not null,
            alerts_medium integer not null, alerts_low integer not null,
            abnormal_exam_candidates integer not null default 0, abnormal_exam_pass_rate numeric,
            abnormal_exam_baseline_pass_rate numeric);
        comment on table marts.evaluation_org_quality is 'Stand-in: one row per evaluation org and month.';
        comment on column marts.evaluation_org_quality.org_id is 'Evaluation org.';
        comment on column marts.evaluation_org_quality.district_code is 'District of the org.';
        comment on column marts.evaluation_org_quality.kind_code is 'Kind of org.';
        comment on column marts.evaluation_org_quality.month is 'First day of the local month.';
        comment on column marts.evaluation_org_quality.exams is 'Exam sessions.';
        comment on column marts.evaluation_org_quality.candidates is 'Results.';
        comment on column marts.evaluation_org_quality.passes is 'Passes.';
        comment on column marts.evaluation_org_quality.pass_rate is 'passes / candidates.';
        comment on column marts.evaluation_org_quality.baseline_pass_rate is 'Baseline of ABNORMAL_PASS_RATE.';
        comment on column marts.evaluation_org_quality.abnormal_pass_rate_alerts is 'Active ABNORMAL_PASS_RATE alerts.';
        comment on column marts.evaluation_org_quality.alerts_high is 'Active high alerts.';
        comment on column marts.evaluation_org_quality.alerts_medium is 'Active medium alerts.';
        comment on column marts.evaluation_org_quality.alerts_low is 'Active low alerts.';
        comment on column marts.evaluation_org_quality.abnormal_exam_candidates is 'Results of the flagged exams.';
        comment on column marts.evaluation_org_quality.abnormal_exam_pass_rate is 'Pass rate of the flagged exams.';
        comment on column marts.evaluation_org_quality.abnormal_exam_baseline_pass_rate is 'Their baseline.';
    """,
    "dim_districts": """
        create table if not exists marts.dim_districts (
            district_code text not null, district_name text not null, district_name_en text not null,
            is_city boolean not null);
        insert into marts.dim_districts values ('310000', '上海市', 'Shanghai (city)', true),
            ('310101', '黄浦区', 'Huangpu', false), ('310104', '徐汇区', 'Xuhui', false),
            ('310115', '浦东新区', 'Pudong New Area', false);
        comment on table marts.dim_districts is 'Stand-in: the districts and the city with their names.';
        comment on column marts.dim_districts.district_code is 'District code, or 310000 for the city.';
        comment on column marts.dim_districts.district_name is 'Chinese name.';
        comment on column marts.dim_districts.district_name_en is 'English name.';
        comment on column marts.dim_districts.is_city is 'The city row.';
    """,
    "rule_precision": """
        create table if not exists marts.rule_precision (
            rule_code text not null, rule_label_zh text, district_code text not null, month date not null,
            alerts bigint not null, open_alerts bigint not null, confirmed_alerts bigint not null,
            dismissed_alerts bigint not null, decided_alerts bigint not null, timed_decisions bigint not null,
            mean_hours_to_decision numeric);
        comment on table marts.rule_precision is 'Stand-in: verdicts per rule, district and month.';
        comment on column marts.rule_precision.rule_code is 'Rule.';
        comment on column marts.rule_precision.rule_label_zh is 'Rule label.';
        comment on column marts.rule_precision.district_code is 'District.';
        comment on column marts.rule_precision.month is 'Month of occurred_on.';
        comment on column marts.rule_precision.alerts is 'Alerts.';
        comment on column marts.rule_precision.open_alerts is 'Open.';
        comment on column marts.rule_precision.confirmed_alerts is 'Confirmed.';
        comment on column marts.rule_precision.dismissed_alerts is 'Dismissed.';
        comment on column marts.rule_precision.decided_alerts is 'Decided.';
        comment on column marts.rule_precision.timed_decisions is 'Decisions with an audit event.';
        comment on column marts.rule_precision.mean_hours_to_decision is 'Mean hours to decision.';
    """,
}


@pytest.fixture(autouse=True)
def _role_secrets(tmp_path, monkeypatch) -> None:
    """Role passwords go to a temporary secrets file, never the repository's var/."""
    monkeypatch.setenv("SUPERVISION_VAR_DIR", str(tmp_path / "var"))
    for name in list(os.environ):
        if name.startswith("SUPERVISION_") and name.endswith("_PASSWORD"):
            monkeypatch.delenv(name)


def add_standin_marts(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        for table, ddl in STANDIN_MARTS.items():
            if c.execute("select to_regclass(%s)", (f"marts.{table}",)).fetchone()[0] is None:
                c.execute(ddl)


@pytest.fixture
def synced_warehouse(warehouse_db) -> Iterator[str]:
    """A fresh warehouse with the stand-in marts and every role, grant and policy in step."""
    from supervision.access import sync_roles

    add_standin_marts(warehouse_db)
    sync_roles(warehouse_db)
    yield warehouse_db


def connect_as(role: str, url: str, **kw) -> psycopg.Connection:
    from supervision.access import role_url

    return psycopg.connect(role_url(role, url), **kw)
