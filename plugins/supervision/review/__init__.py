"""The alert review application (FastAPI, server-rendered): triage of marts.supervision_alerts with the
evidence drawn, district isolation by PostgreSQL row-level security (``supervision.access``). Entry
points: ``app.create_app``, ``app.serve_review``, ``app.fastapi_app`` (Airflow plugin), ``users.main``
(CLI), ``notify``. Layout: ``routers/`` (one per area), the services ``listing`` and ``triage``,
``web`` (shared request helpers), ``state`` and ``db`` (the psycopg_pool pool), ``schema`` (DDL)."""
