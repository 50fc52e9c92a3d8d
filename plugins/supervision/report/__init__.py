"""The monthly supervision report (月度督导报告), per district and for the city.

For one month: progress against the 2024 targets, alerts raised, decided and still open by rule,
time to decision, the riskiest training institutions and evaluation orgs and why, confirmed cases.

- ``data``: ``gather(conn, scope, month)`` reads the marts, the alert table and the review trail
  into a ``MonthlyReport``;
- ``pdf`` / ``xlsx``: ``render_pdf(report)`` and ``render_xlsx(report)`` return the file's bytes
  (the PDF embeds Noto Sans SC);
- ``mail``: ``send_monthly_reports`` e-mails each district and the city its report (the monthly
  DAG ``supervision_monthly_report``);
- ``labels``: the report's Simplified Chinese words.

The review application serves the same files (``supervision.review.routers.report``);
``python -m supervision.report --month 2024-03 --scope 310115 --out DIR`` writes them to a folder.
"""
