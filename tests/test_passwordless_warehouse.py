"""A warehouse URL without a password: libpq finds it in a .pgpass file (PGPASSFILE) or PGPASSWORD.

The test server asks every TCP connection for a password (scram-sha-256), so these only pass when the
password really comes from libpq's own sources. A small DAG run through ``DAG.test()`` does what the
marts path does with the connection: a task reads the URL through Airflow's connection API
(``dag_support.warehouse_url``) and loads an assessment export with it, then a Cosmos `dbt build`
runs ``dbt build`` with the marts DAG's profile (``dbt_profile.profile_config``).
"""
from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import unquote, urlsplit

import psycopg
import pytest

from tests.conftest import REPO, airflow_home_with_db
from tests.test_airflow_guards import _airflow_env

pytestmark = pytest.mark.slow  # not in `make test-fast` (a DAG run with a real dbt build)

DAG_FILE = '''
import sys
from pathlib import Path

import pendulum
from airflow.sdk import dag, task
from cosmos.constants import InvocationMode
from cosmos.operators.local import DbtBuildLocalOperator

from supervision.dag_support import WAREHOUSE_CONN_ID, warehouse_url
from supervision.dbt_profile import profile_config


DBT = Path({dbt!r})


@dag(dag_id="passwordless", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
     default_args={{"retries": 0}})
def passwordless():
    @task
    def load_exports() -> int:
        from supervision.ingest.assessment import load_assessments

        url = warehouse_url()
        print("URL FROM THE CONNECTION", url)
        return load_assessments({landing!r}, url, "run-pw", b"test-pii-key-0123456789")["loaded"]

    dbt = DbtBuildLocalOperator(
        task_id="dbt_models", project_dir=str(DBT), profile_config=profile_config(WAREHOUSE_CONN_ID),
        invocation_mode=InvocationMode.SUBPROCESS, dbt_executable_path=str(Path(sys.executable).with_name("dbt")),
        install_deps=False, select=["stg_assessment__results"], vars={{"local_timezone": "Asia/Shanghai"}},
    )
    load_exports() >> dbt


d = passwordless()
if __name__ == "__main__":
    run = d.test()
    print("RUN STATE", run.state)
    sys.exit(0 if run.state == "success" else 1)
'''

RESULTS = ("成績編號,考試批次號,身份證號,姓名,理論成績,實操成績,是否合格,錄入時間\r\n"
           "R1,E1,11010519491231002X,張三,90.5,85,合格,2024-03-01 10:00\r\n"
           "R2,E1,440524188001010014,李四,55,72,不合格,2024-03-01 10:00\r\n")


@pytest.fixture
def passwordless_url(warehouse_db, tmp_path, monkeypatch) -> str:
    """The warehouse's URL with the password taken out, which sits in a .pgpass file instead."""
    parts = urlsplit(warehouse_db)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{parts.hostname}:{parts.port}:*:{parts.username}:{unquote(parts.password or '')}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    url = f"postgresql://{parts.username}@{parts.hostname}:{parts.port}{parts.path}"
    with psycopg.connect(url) as conn:  # the .pgpass file is what makes this work
        conn.execute("select 1")
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(url).close()
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    return url


def test_the_cosmos_profile_needs_no_password_and_keeps_one_when_given(monkeypatch):
    from cosmos.exceptions import CosmosValueError
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    from supervision.dbt_profile import NO_PASSWORD, PostgresProfileMapping

    monkeypatch.setenv("AIRFLOW_CONN_PW_TEST", "postgres://owner@127.0.0.1:5432/warehouse")
    with pytest.raises(CosmosValueError, match="secret field password"):
        _ = PostgresUserPasswordProfileMapping(conn_id="pw_test").env_vars  # Cosmos' own mapping
    mapping = PostgresProfileMapping(conn_id="pw_test", profile_args={"schema": "public"})
    assert mapping.can_claim_connection()
    assert mapping.profile["password"] == NO_PASSWORD and "PASSWORD" not in "".join(mapping.env_vars)
    monkeypatch.setenv("AIRFLOW_CONN_PW_TEST", "postgres://owner:s3cret%21@127.0.0.1:5432/warehouse")
    mapping = PostgresProfileMapping(conn_id="pw_test", profile_args={"schema": "public"})
    assert mapping.env_vars[mapping.get_env_var_name("password")] == "s3cret!"
    assert mapping.profile["password"] == mapping.get_env_var_format("password")


@pytest.mark.parametrize("source", ["pgpass", "PGPASSWORD"])
def test_a_load_and_the_cosmos_dbt_build_run_on_a_url_without_password(passwordless_url, warehouse_db, tmp_path,
                                                                       migrated_airflow_db, source):
    from supervision.airflow_env import _airflow_conn_uri
    from supervision.pipeline import ensure_manifest

    ensure_manifest()
    landing = tmp_path / "landing"
    (landing / "assessment" / "date=2024-03-01").mkdir(parents=True)
    (landing / "assessment" / "date=2024-03-01" / "exam_results.csv").write_text(RESULTS, encoding="utf-8")
    home = airflow_home_with_db(tmp_path / "airflow", migrated_airflow_db)
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "passwordless.py").write_text(DAG_FILE.format(dbt=str(REPO / "dbt_project"), landing=str(landing)))
    env = _airflow_env(home, dags, {
        "SUPERVISION_WAREHOUSE_URL": passwordless_url,
        "AIRFLOW_CONN_SUPERVISION_WAREHOUSE": _airflow_conn_uri(passwordless_url),
    })
    if source == "pgpass":
        env["PGPASSFILE"] = os.environ["PGPASSFILE"]
    else:
        env["PGPASSFILE"] = str(tmp_path / "none")
        env["PGPASSWORD"] = unquote(urlsplit(warehouse_db).password or "")
    res = subprocess.run([sys.executable, str(dags / "passwordless.py")], env=env, capture_output=True,
                         text=True, timeout=600)
    log = res.stdout + res.stderr
    assert res.returncode == 0 and "RUN STATE success" in log, log[-6000:]
    assert f"URL FROM THE CONNECTION {passwordless_url}" in log
    with psycopg.connect(warehouse_db) as conn:
        rows = conn.execute("select result_id from staging.stg_assessment__results order by 1").fetchall()
    assert rows == [("R1",), ("R2",)]
