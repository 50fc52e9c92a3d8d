"""Run by a Python that has apache-superset (not the project's): import a datasets bundle into a fresh
Superset (metadata in SQLite under SUPERSET_HOME) as an admin, with the BI password, and print what
landed as JSON: each dataset's description, described columns and row count read as supervision_bi.

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
    from superset.commands.dataset.importers.dispatcher import ImportDatasetsCommand
    from superset.connectors.sqla.models import SqlaTable

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
    ImportDatasetsCommand(contents, passwords={db_file: password}, overwrite=True).run()
    out = {}
    for t in db.session.query(SqlaTable).filter(SqlaTable.schema == "marts"):
        rows = t.database.get_df(f'select count(*) as n from marts."{t.table_name}"', schema="marts")
        out[t.table_name] = {"description": t.description, "database": t.database.database_name,
                             "columns_described": sum(1 for c in t.columns if c.description),
                             "columns": len(t.columns), "rows": int(rows["n"][0])}
    print("RESULT " + json.dumps(out, ensure_ascii=False))
