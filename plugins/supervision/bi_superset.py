"""The marts as Superset datasets, with their descriptions: an import bundle (Superset's v1 export format).

Why: Superset copies a table's column comments into the dataset's column descriptions when a dataset
is added, but leaves the dataset's own description empty (it reads table comments only for SQL Lab's
table preview), so the marts' table descriptions never reached Superset's dataset list or charts.
This bundle carries both, read from the warehouse's comments (dbt's persist_docs): one database
(``supervision_warehouse``, connected as ``supervision_bi``, password left for the importer to give)
and one dataset per table or view of ``marts``. The ids are stable (uuid5 of the names), so importing
a newer bundle with overwrite updates the datasets in place.

Import: Superset's *Datasets → Import* (asks for the password), or
``superset import-datasources -p FILE`` after setting the database's password.
"""
from __future__ import annotations

import json
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from supervision.access.names import BI_ROLE

DATABASE_NAME = "supervision_warehouse"
ROOT = "supervision_marts"
NAMESPACE = uuid.UUID("6f1c1d3e-5b7a-4f4e-9c1e-2b1d7a0c5e11")
PASSWORD_MASK = "XXXXXXXXXX"   # what Superset's own exports put in place of a password
TEMPORAL_TYPES = ("date", "timestamp", "time")

MARTS_COLUMNS_SQL = """
select c.relname, obj_description(c.oid, 'pg_class'), a.attname, format_type(a.atttypid, a.atttypmod),
       col_description(c.oid, a.attnum)
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')
order by c.relname, a.attnum
"""


def _dump(data: dict) -> str:
    """YAML, written as JSON (a subset of YAML 1.2), so no YAML writer is needed."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def datasets_bundle(warehouse_url: str, out: Path, host: str | None = None, port: int | None = None,
                    with_password: bool = False) -> Path:
    """Write the import bundle (a ZIP) for the marts of ``warehouse_url`` (an owner URL) to ``out``.

    ``host``/``port``: where Superset reaches the warehouse (default: the URL's). ``with_password``:
    the database carries the BI password, for an unattended import (``superset import-dashboards``,
    which asks for none); such a file is a secret."""
    from supervision.access.logins import connection_settings
    from supervision.warehouse import connect

    conn_settings = connection_settings(BI_ROLE, warehouse_url, host=host, port=port)
    with connect(warehouse_url) as conn:
        rows = conn.execute(MARTS_COLUMNS_SQL).fetchall()
    tables: dict[str, dict] = {}
    for table, table_comment, column, col_type, col_comment in rows:
        t = tables.setdefault(table, {"description": table_comment, "columns": []})
        t["columns"].append({
            "column_name": column, "verbose_name": None,
            "is_dttm": col_type.startswith(TEMPORAL_TYPES), "is_active": True, "type": col_type.upper(),
            "advanced_data_type": None, "groupby": True, "filterable": True, "expression": None,
            "description": col_comment, "python_date_format": None, "extra": {},
        })
    uri = _masked_uri(conn_settings)
    db_uuid = str(uuid.uuid5(NAMESPACE, DATABASE_NAME))
    database: dict[str, object] = {
        "database_name": DATABASE_NAME, "sqlalchemy_uri": uri, "cache_timeout": None,
        "expose_in_sqllab": True, "allow_run_async": False, "allow_ctas": False, "allow_cvas": False,
        "allow_dml": False, "allow_csv_upload": False, "impersonate_user": False,
        "extra": {"metadata_params": {}, "engine_params": {}, "metadata_cache_timeout": {},
                  "schemas_allowed_for_csv_upload": []},
        "uuid": db_uuid, "version": "1.0.0",
    }
    if with_password:
        database["password"] = conn_settings["password"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{ROOT}/metadata.yaml", _dump({
            "version": "1.0.0", "type": "SqlaTable",
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
        z.writestr(f"{ROOT}/databases/{DATABASE_NAME}.yaml", _dump(database))
        for table, t in tables.items():
            temporal = [c["column_name"] for c in t["columns"] if c["is_dttm"]]
            z.writestr(f"{ROOT}/datasets/{DATABASE_NAME}/{table}.yaml", _dump({
                "table_name": table, "main_dttm_col": "month" if "month" in temporal else (temporal or [None])[0],
                "description": t["description"], "default_endpoint": None, "offset": 0, "cache_timeout": None,
                "schema": "marts", "sql": None, "params": None, "template_params": None,
                "filter_select_enabled": True, "fetch_values_predicate": None, "extra": None,
                "uuid": str(uuid.uuid5(NAMESPACE, f"{DATABASE_NAME}.marts.{table}")),
                "metrics": [{"metric_name": "count", "verbose_name": "COUNT(*)", "metric_type": "count",
                             "expression": "COUNT(*)", "description": None, "d3format": None,
                             "warning_text": None, "extra": {}}],
                "columns": t["columns"], "version": "1.0.0", "database_uuid": db_uuid,
            }))
    return out


def _masked_uri(conn_settings: dict[str, str]) -> str:
    """The SQLAlchemy URI with the password masked, as Superset exports it (the importer supplies it)."""
    from urllib.parse import quote

    auth = f"{quote(conn_settings['user'], safe='')}:{PASSWORD_MASK}"
    hostport = conn_settings["libpq_uri"].rsplit("@", 1)[1]
    return f"postgresql+psycopg2://{auth}@{hostport}"
