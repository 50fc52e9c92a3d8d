"""The monthly supervision report (月度督导报告), e-mailed to each district and the city."""
from __future__ import annotations

from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from supervision.config import settings
from supervision.dag_support import DEFAULT_ARGS, INGEST_DAG_GUARDS, local_day, start_date, warehouse_url

DOC = """
### Monthly supervision report → each district's mailbox

At 06:00 (the settings' time zone, Asia/Shanghai by default) on the 2nd of every month, the report of
the month before, for every district with an address in `SUPERVISION_DISTRICT_EMAILS` and for the
city (`310000`): progress against the 2024 targets, alerts raised, decided and still open by rule,
time to decision, the riskiest training institutions and evaluation orgs and why, confirmed cases.
One e-mail per address with the PDF and the XLSX attached. Reports already sent for the month are
recorded in `review.report_deliveries`: a retry sends only the rest, a manual re-run sends nothing.

The same files can be downloaded from the review application (月度督导报告).

Code: `supervision.report`.
"""


@dag(
    dag_id="supervision_monthly_report",
    schedule=CronTriggerTimetable("0 6 2 * *", timezone=settings().local_tz),
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    **INGEST_DAG_GUARDS,
    tags=["supervision", "report"],
    doc_md=DOC,
)
def supervision_monthly_report():
    @task
    def send_reports(**context) -> list[str]:
        from datetime import date

        from supervision.report.data import previous_month
        from supervision.report.mail import send_from_environment

        month = previous_month(date.fromisoformat(local_day(context)))
        return send_from_environment(month, warehouse_url())

    send_reports()


supervision_monthly_report()
