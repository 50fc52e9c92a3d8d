"""The report on marts that dbt built (the dbt tests' hand-made raw dataset, ``dbt build``), not on
stand-ins: its SQL runs on the real models and its target figures equal theirs, for a district and
the city."""
from __future__ import annotations

import psycopg
import pytest

from .test_monthly_report import CITY_CODE, FIRST, _check_targets, pdf_text, xlsx_sheets

pytestmark = pytest.mark.slow  # not in `make test-fast` (real dbt builds, services or subprocesses)

XUHUI = "310104"


def test_report_on_the_dbt_built_marts(built_warehouse):
    from supervision.report.data import gather
    from supervision.report.pdf import render_pdf
    from supervision.report.xlsx import render_xlsx
    from supervision.review.schema import install

    install(built_warehouse)
    for scope in (XUHUI, CITY_CODE):   # one build (about a minute) for both reports
        with psycopg.connect(built_warehouse) as conn:
            conn.execute("select review.refresh_alert_links(null)")
            rep = gather(conn, scope, FIRST)
        text, sheets = pdf_text(render_pdf(rep)), xlsx_sheets(render_xlsx(rep))
        _check_targets(built_warehouse, scope, text, sheets)
        alerts = {r[0]: r for r in sheets["告警按规则"][1:] if r[0]}
        assert alerts["CAMERA_DOWN"][3] == 1, scope
