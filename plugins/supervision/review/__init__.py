"""The alert review application (FastAPI, server-rendered): triage of marts.supervision_alerts with the
evidence drawn, district isolation by PostgreSQL row-level security. Entry points: ``app.create_app``,
``app.serve_review``, ``app.fastapi_app`` (Airflow plugin), ``users.main`` (CLI), ``notify``."""
