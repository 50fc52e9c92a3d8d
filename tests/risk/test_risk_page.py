"""The review application's risk page (supervision.review.risk, routers/risk.py): institutions and
orgs by risk_score with the features behind their evidence score; a district user sees its own
district only; a notice while the features mart is not readable."""
from __future__ import annotations

import psycopg
import pytest

from tests.review.conftest import CITY, PD_USER, add_test_users, login, review_db  # noqa: F401 (fixtures)
from tests.review.seed import HUANGPU, PUDONG

# the three risk marts as the pages read them (the columns they use)
RISK_MARTS_DDL = """
create table marts.institution_scorecard (institution_id text, district_code text, month date, sessions_held int,
    alerts_high int, alerts_medium int, alerts_low int, rule_score numeric, evidence_score numeric,
    risk_score numeric, grade text);
create table marts.evaluation_org_quality (org_id text, district_code text, month date, exams int,
    alerts_high int, alerts_medium int, alerts_low int, rule_score numeric, evidence_score numeric,
    risk_score numeric, grade text);
create table marts.risk_features (entity_type text, entity_id text, district_code text, month date,
    feature_code text, family text, robust_z numeric, points numeric, value numeric, peer_median numeric,
    peer_group text, record_type text, evidence_records jsonb);
"""

MARTS = RISK_MARTS_DDL + f"""
insert into marts.institution_scorecard values
  ('INS_GAME', '{PUDONG}', '2024-02-01', 25, 0, 0, 0, 0, 25, 25, 'D'),
  ('INS_ALERTS', '{PUDONG}', '2024-02-01', 30, 1, 0, 0, 3.33, 0, 3.33, 'B'),
  ('INS_HP', '{HUANGPU}', '2024-02-01', 30, 0, 0, 0, 0, 6, 6, 'C');
insert into marts.evaluation_org_quality values ('EO_GAME', '{PUDONG}', '2024-02-01', 20, 0, 0, 0, 0, 6.1, 6.1, 'C');
insert into marts.risk_features values
  ('institution', 'INS_GAME', '{PUDONG}', '2024-02-01', 'hours_near_line', 'bunching', 19.1, 5, 0.66, 0.04,
   'small', 'claim', '["CLM_ONE", "CLM_TWO"]'),
  ('institution', 'INS_HP', '{HUANGPU}', '2024-02-01', 'shared_trainees', 'shared', 9, 5, 0.4, 0.0,
   'small', 'institution', '["INS_OTHER"]'),
  ('evaluation_org', 'EO_GAME', '{PUDONG}', '2024-02-01', 'org_candidates_from_flagged', 'shared', null, 3.9, 0.39,
   null, null, 'institution', '["INS_GAME"]');
"""


@pytest.fixture
def risk_client(review_db):  # noqa: F811 (the fixture imported above)
    from fastapi.testclient import TestClient

    from supervision.review.app import create_app
    from supervision.review.routers import risk

    with psycopg.connect(review_db, autocommit=True) as conn:
        conn.execute(MARTS)
    add_test_users(review_db)
    app = create_app(review_db, links_refresh_seconds=3600)
    if not any(getattr(r, "name", None) == "risk" for r in app.routes):
        app.include_router(risk.router)
    clients = []

    def make(user: str):
        c = TestClient(app, base_url="http://127.0.0.1")
        clients.append(c)
        login(c, user)
        return c
    yield review_db, make
    for c in clients:
        c.close()
    if app.state.review._pool:
        app.state.review._pool.close()


def _grant_features(url: str) -> None:
    from supervision.access.names import group_roles

    with psycopg.connect(url, autocommit=True) as conn:
        for role in group_roles():
            conn.execute(f'grant select on marts.risk_features to "{role}"')


def test_city_sees_every_district_highest_risk_first_with_its_evidence(risk_client):
    url, make = risk_client
    _grant_features(url)
    page = make(CITY).get("/risk")
    assert page.status_code == 200, page.text[:500]
    html = page.text
    assert html.index("institution-INS_GAME") < html.index("institution-INS_HP") < html.index("institution-INS_ALERTS")
    assert "hours_near_line" in html and "CLM_ONE" in html and "org_candidates_from_flagged" in html
    assert 'id="risk-notice"' not in html


def test_district_user_sees_only_its_district(risk_client):
    url, make = risk_client
    _grant_features(url)
    html = make(PD_USER).get("/risk").text
    assert "INS_GAME" in html and "INS_ALERTS" in html
    assert "INS_HP" not in html and "shared_trainees" not in html


def test_features_mart_not_readable_gives_a_notice_and_still_the_scores(risk_client):
    url, make = risk_client
    with psycopg.connect(url, autocommit=True) as conn:  # as before the first build that makes it
        conn.execute("alter table marts.risk_features rename to risk_features_later")
    html = make(CITY).get("/risk").text
    assert 'id="risk-notice"' in html and "institution-INS_GAME" in html
