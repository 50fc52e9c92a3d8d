"""Fixtures of the monthly report's tests: the review application's seeded warehouse (alerts in
Pudong, Huangpu and two more districts; the Pudong school and the Huangpu evaluation org), the
marts the report reads filled as the demo fills them, and logged-in clients of the application."""
from __future__ import annotations

import pytest

from tests.review.conftest import app, make_client, review_db  # noqa: F401 - fixtures used here

MONTH = "2024-03"


@pytest.fixture
def seeded(review_db) -> dict:  # noqa: F811 - the review tests' fixture, with the marts added
    from tests.review.conftest import add_test_users
    from tests.review.seed import seed

    from .marts import fill

    ids = seed(review_db)
    fill(review_db)
    add_test_users(review_db)
    return {"url": review_db, **ids}


@pytest.fixture
def report_app(app):  # noqa: F811
    """The review application with the report's router (included here until the app factory lists it)."""
    from supervision.review.routers import report

    if not any(getattr(r, "name", None) == "report_file" for r in app.routes):
        app.include_router(report.router)
    return app
