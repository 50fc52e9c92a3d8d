"""Run by a Python that has apache-superset (not the project's): import a dashboards bundle into a fresh
Superset (metadata in SQLite under SUPERSET_HOME) as an admin, with the BI password, then fetch every
chart's data through Superset's chart-data command; print what landed as JSON: each dataset's
description and described columns, each dashboard's charts, each chart's rows or error.

    python superset_import.py BUNDLE.zip BI_PASSWORD
(with SUPERSET_CONFIG_PATH set; tests/bi/test_bi_answers.py writes the config and runs
``superset db upgrade`` and ``superset init`` first)."""
import json
import sys
import zipfile

from superset.app import create_app

app = create_app()
with app.app_context():
    from flask import g
    from superset import db, security_manager
    from superset.charts.schemas import ChartDataQueryContextSchema
    from superset.commands.chart.data.get_data_command import ChartDataCommand
    from superset.commands.dashboard.importers.dispatcher import ImportDashboardsCommand
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.dashboard import Dashboard
    from superset.models.slice import Slice

    bundle, password = sys.argv[1], sys.argv[2]
    admin = security_manager.find_user(username="admin")
    if admin is None:
        admin = security_manager.add_user("admin", "a", "b", "admin@example.invalid",
                                          security_manager.find_role("Admin"), password="admin-pw-123")
        db.session.commit()
    g.user = admin
    with zipfile.ZipFile(bundle) as z:   # the API and UI strip the bundle's root folder; so do we
        contents = {n.split("/", 1)[1]: z.read(n).decode() for n in z.namelist()}
    db_file = next(n for n in contents if n.startswith("databases/"))
    ImportDashboardsCommand(contents, passwords={db_file: password}, overwrite=True).run()
    out = {"datasets": {}, "dashboards": {}, "charts": {}}
    for t in db.session.query(SqlaTable).filter(SqlaTable.schema == "marts"):
        out["datasets"][t.table_name] = {"description": t.description, "database": t.database.database_name,
                                         "columns_described": sum(1 for c in t.columns if c.description),
                                         "columns": len(t.columns)}
    for d in db.session.query(Dashboard):
        out["dashboards"][d.slug] = sorted(s.slice_name for s in d.slices)
    for s in db.session.query(Slice):
        try:
            command = ChartDataCommand(ChartDataQueryContextSchema().load(json.loads(s.query_context)))
            command.validate()
            q = command.run()["queries"][0]
            out["charts"][s.slice_name] = {"rows": q.get("rowcount"), "error": q.get("error")}
        except Exception as err:  # noqa: BLE001 - reported, the test fails on it
            out["charts"][s.slice_name] = {"rows": None, "error": f"{type(err).__name__}: {err}"}
    print("RESULT " + json.dumps(out, ensure_ascii=False, default=str))
