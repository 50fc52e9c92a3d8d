"""`supervision roles --print-connection <role>`: an administrator hands an analyst a connection that works."""
from __future__ import annotations

import json

import psycopg
import pytest

from supervision import cli
from supervision.access.logins import connection_settings


def test_print_connection_gives_a_working_bi_login(warehouse_db, monkeypatch, capsys):
    from tests.bi.conftest import add_standin_marts

    add_standin_marts(warehouse_db)
    monkeypatch.setenv("SUPERVISION_WAREHOUSE_URL", warehouse_db)
    assert cli.main(["roles", "--print-connection", "supervision_bi", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {"host", "port", "database", "user", "password", "schema", "sslmode", "libpq_uri",
            "sqlalchemy_uri"} <= set(printed)
    assert printed["user"] == "supervision_bi" and printed["schema"] == "marts" and printed["password"]
    assert printed["sqlalchemy_uri"].startswith("postgresql+psycopg2://supervision_bi:")
    assert "sslmode=require" not in printed["libpq_uri"]   # the demo server has no TLS
    with psycopg.connect(printed["libpq_uri"]) as bi:
        assert bi.execute("select current_user, count(*) from district_target_progress").fetchone()[0] == "supervision_bi"
    with psycopg.connect(host=printed["host"], port=int(printed["port"]), dbname=printed["database"],
                         user=printed["user"], password=printed["password"]) as bi:
        assert bi.execute("show search_path").fetchone()[0] == "marts"

    # the plain form, and an address override for BI tools that reach the server by another name
    assert cli.main(["roles", "--print-connection", "reviewer_310104", "--host", "warehouse.example",
                     "--port", "6543"]) == 0
    lines = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert lines["host"] == "warehouse.example" and lines["port"] == "6543" and lines["user"] == "reviewer_310104"


def test_only_people_logins_are_printable():
    for role in ("supervision_app", "supervision_loader", "postgres"):
        with pytest.raises(ValueError, match="not a BI or reviewer login"):
            connection_settings(role, "postgresql://o:p@h:5432/warehouse")
    tls = connection_settings("supervision_bi", "postgresql://o:p@db:5432/warehouse?sslmode=verify-full")
    assert tls["sslmode"] == "verify-full" and tls["libpq_uri"].endswith("/warehouse?sslmode=verify-full")
