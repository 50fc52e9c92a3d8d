"""The risk models on a small warehouse (tests/dbt/raw_dataset.sql): a daily incremental run gives
the same rows as a full rebuild, and the scorecards' risk_score and grade follow docs/RISK.md."""
from __future__ import annotations

import psycopg
import pytest

from supervision.dbt_runner import run_dbt
from tests.conftest import scratch_database

# real dbt builds of the risk models (about 15 s): not in `make test-fast`
pytestmark = pytest.mark.slow

RUN_DATE = {"run_date": "2024-03-05"}
FEATURES = {"face_checkin_near_line", "face_match_near_line", "headcount_near_line", "coverage_near_line",
            "burst_near_line", "hours_near_line", "checkin_cadence_regular", "headcount_loop", "headcount_loop_shared", "claims_at_cap",
            "shared_trainees", "shared_site_address", "org_pass_near_line", "org_identical_near_line",
            "org_pass_excess", "org_pass_excess_months"}
RISK_TABLES = ("intermediate.int_risk_headcount_fingerprints", "intermediate.int_risk_session_measures",
               "intermediate.int_risk_institution_measures",
               "intermediate.int_risk_org_measures", "core.fct_risk_features", "intermediate.int_risk_org_links",
               "marts.risk_features")


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def _snapshot(url: str) -> dict[str, list[tuple]]:
    return {t: sorted(map(repr, _rows(url, f"select * from {t}"))) for t in RISK_TABLES}


@pytest.fixture(scope="module")
def risk_warehouse(pg_admin_url, built_template):
    """The dbt tests' raw dataset built as the marts DAG builds it (conftest's built_template: the
    risk models, their data and unit tests, two alerts standing in for the upkeep, the scorecards);
    this module's own copy."""
    with scratch_database(pg_admin_url, template=built_template) as url:
        yield url


def test_risk_models_hold_rows(risk_warehouse):
    url = risk_warehouse
    features = dict(_rows(url, "select feature_code, count(*) from core.fct_risk_features group by 1"))
    assert "face_checkin_near_line" in features and set(features) <= FEATURES
    (families,), = _rows(url, "select array_agg(distinct family order by family) from marts.risk_features")
    assert set(families) <= {"bunching", "regularity", "shared", "peer_deviation"}


def test_daily_incremental_run_equals_full_rebuild(risk_warehouse):
    url = risk_warehouse
    models = ["int_risk_headcount_fingerprints", "int_risk_session_measures", "int_risk_institution_measures",
              "int_risk_org_measures",
              "fct_risk_features", "int_risk_org_links",
              "fct_risk_scores", "risk_features"]
    run_dbt(["run", "--select", *models], url, vars=RUN_DATE)          # incremental: the months of the run date
    incremental = _snapshot(url)
    run_dbt(["run", "--full-refresh", "--select", *models], url, vars=RUN_DATE)
    assert _snapshot(url) == incremental


def test_scorecards_combine_rules_and_evidence(risk_warehouse):
    url = risk_warehouse
    bad = _rows(url, """
        select institution_id, month from marts.institution_scorecard
        where risk_score <> least(rule_score, 5) + evidence_score
           or grade <> case when rule_score + evidence_score < 2 then 'A' when rule_score + evidence_score < 5 then 'B'
                            when rule_score + evidence_score < 10 then 'C' else 'D' end
        union all
        select org_id, month from marts.evaluation_org_quality
        where risk_score <> least(rule_score, 5) + evidence_score
           or grade <> case when rule_score + evidence_score < 2 then 'A' when rule_score + evidence_score < 5 then 'B'
                            when rule_score + evidence_score < 10 then 'C' else 'D' end
           or risk_score is null""")
    assert bad == []
    # the evidence score is the month's feature points (fct_risk_scores)
    mismatch = _rows(url, """
        select s.institution_id from marts.institution_scorecard s
        left join core.fct_risk_scores r on r.entity_type = 'institution' and r.entity_id = s.institution_id
             and r.month = s.month
        where s.evidence_score <> coalesce(r.evidence_points, 0)""")
    assert mismatch == []
    (alerted,), = _rows(url, "select alerts_medium from marts.institution_scorecard where alerts_medium > 0 limit 1")
    assert alerted == 1
