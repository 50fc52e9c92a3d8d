"""docs/BI.md's questions give the right answers on marts that dbt builds, checked against independent
queries of the sources.

The dataset (tests/dbt/raw_dataset.sql, its data ending in March 2024, plus an evaluation org with one
exam passing everyone among ordinary ones) holds the traps the questions once fell into: the progress
mart's rows for every month of the year (the latest month is not December), a class scheduled for
April whose OUT_OF_SCOPE_CLASS alert is dated after the data ends (the scorecard's "this month" is not
April), and an org whose flagged exam is diluted by its other exams (its pooled pass rate is below the
baseline). Also: the shared contract checker, a description on every marts table and column, the
district names, the city rows, and the dbt docs served beside the GX Data Docs.
"""
from __future__ import annotations

import importlib.util
import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

from supervision.access import BI_ROLE, sync_roles
from supervision.dbt_runner import run_dbt
from tests.bi.conftest import connect_as
from tests.conftest import CHECK_CONTRACT, REPO, scratch_database

pytestmark = pytest.mark.slow  # not in `make test-fast` (real dbt builds, services or subprocesses)

BI_MD = REPO / "docs" / "BI.md"
RAW_DATASET = REPO / "tests" / "dbt" / "raw_dataset.sql"
MARCH = date(2024, 3, 1)
XUHUI = "310104"

# The data ends in March: completions and a certificate the base dataset dates later move into March;
# K4 stays a class planned for April (its OUT_OF_SCOPE_CLASS alert is dated 2024-04-01). Org G3 (Xuhui)
# has a baseline exam in 2023 (120 results, half pass), then in March one exam where all 20 pass
# (ABNORMAL_PASS_RATE) and one where 10 of 60 pass: its March pass rate (30/80) is below the baseline.
TRAPS_SQL = """
update raw_training.enrollments set completed_on = date '2024-03-10' + (right(enrollment_id, 1)::int)
 where completed_on > '2024-03-31';
update raw_assessment.certificates set issued_on = '2024-03-20' where issued_on > '2024-03-31';
insert into raw_assessment.exam_sessions (exam_id, org_id, occupation_code, skill_level, starts_at, ends_at,
    assessor_ids, registered, delivery_date, file_id, line_no) values
  ('EXB0', 'G3', 'O1', 4, '2023-09-01 09:00+08', '2023-09-01 11:00+08', '{A7}', 120, '2023-09-01', 20, 1),
  ('EXA', 'G3', 'O1', 4, '2024-03-10 09:00+08', '2024-03-10 11:00+08', '{A8}', 20, '2024-03-10', 20, 2),
  ('EXC', 'G3', 'O1', 4, '2024-03-20 09:00+08', '2024-03-20 11:00+08', '{A9}', 60, '2024-03-20', 20, 3);
insert into raw_assessment.exam_results (result_id, exam_id, person_key, id_masked, id_format_ok, id_birth_date,
    id_check_ok, theory_score, practical_score, passed, recorded_at, delivery_date, file_id, line_no)
select x.exam_id || '-' || n, x.exam_id, 'Q' || x.exam_id || n, '310104********' || lpad(n::text, 4, '0'), true,
       '1990-01-01', true,
       case when n <= x.passes then 60 + n % 37 else 20 + n % 31 end,
       case when n <= x.passes then 60 + (n * 11) % 39 else 20 + (n * 7) % 33 end,
       case when n <= x.passes then '合格' else '不合格' end,
       x.day + time '12:00', x.day, 21, n
from (values ('EXB0', 120, 60, date '2023-09-01'), ('EXA', 20, 20, date '2024-03-10'),
             ('EXC', 60, 10, date '2024-03-20')) as x(exam_id, results, passes, day)
cross join lateral generate_series(1, x.results) as n;
"""

# Independent of the dbt models: the latest local month holding a held session, a completed enrollment,
# a certificate or an exam result, straight from the raw layer.
LATEST_MONTH_SQL = """
select date_trunc('month', max(d))::date from (
    select (starts_at at time zone 'Asia/Shanghai')::date as d from raw_training.sessions where status = 'held'
    union all select completed_on from raw_training.enrollments where status = 'completed'
    union all select issued_on from raw_assessment.certificates
    union all select (x.starts_at at time zone 'Asia/Shanghai')::date from raw_assessment.exam_sessions x
              where exists (select 1 from raw_assessment.exam_results r where r.exam_id = x.exam_id)) as days
"""
SUBSIDISED_YTD_SQL = """
select i.district_code, count(*) from raw_training.enrollments e
join raw_training.classes c on c.class_id = e.class_id and c.subsidised
join raw_training.institutions i on i.institution_id = c.institution_id
where e.status = 'completed' and e.completed_on >= '2024-01-01' and e.completed_on < %s::date + interval '1 month'
group by 1
"""
FLAGGED_EXAMS_SQL = """
select x.org_id, date_trunc('month', x.starts_at at time zone 'Asia/Shanghai')::date,
       count(*) filter (where r.passed = '合格')::numeric / count(*)
from marts.supervision_alerts a
join raw_assessment.exam_sessions x on x.exam_id = a.entity_key
join raw_assessment.exam_results r on r.exam_id = x.exam_id
where a.rule_code = 'ABNORMAL_PASS_RATE' and a.is_active
group by 1, 2
"""


def sql_blocks() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", BI_MD.read_text(encoding="utf-8"), re.S)


def _rows(url: str, sql: str, *args) -> list[tuple]:
    with psycopg.connect(url) as c:
        return c.execute(sql, args or None).fetchall()


@pytest.fixture(scope="module")
def built(pg_admin_url) -> Iterator[str]:
    """A warehouse with the dataset, dbt's two phases and the alert upkeep between them, as the marts DAG runs."""
    from supervision.alerts.upkeep import run_upkeep
    from supervision.warehouse import bootstrap

    with scratch_database(pg_admin_url) as url:  # the name other tests give dbt: its partial parse holds
        bootstrap(url)
        with psycopg.connect(url, autocommit=True) as c:
            c.execute(RAW_DATASET.read_text(encoding="utf-8"))
            c.execute(TRAPS_SQL)
        run_dbt(["build", "--exclude", "tag:after_alerts", "test_type:unit"], url, vars={"run_date": "2024-03-31"})
        run_upkeep(url)
        run_dbt(["build", "--select", "tag:after_alerts", "--exclude", "test_type:unit"], url,
                vars={"run_date": "2024-03-31"})
        yield url


def _superset_env(home: Path) -> dict[str, str]:
    """The environment of a Superset whose home, config and metadata database (superset.db) are in
    ``home``: its superset_config.py is written there with a fresh secret key."""
    import os

    (home / "superset_config.py").write_text(
        f'SECRET_KEY = "test-{uuid.uuid4().hex}"\nSQLALCHEMY_DATABASE_URI = "sqlite:///{home}/superset.db"\n')
    return {**os.environ, "SUPERSET_CONFIG_PATH": str(home / "superset_config.py"), "SUPERSET_HOME": str(home)}


@pytest.fixture(scope="module")
def superset_metadata(tmp_path_factory) -> Path | None:
    """A Superset metadata database migrated and initialised (``superset db upgrade``, ``superset init``:
    about 20 s), made once for this module's two Superset tests, each of which starts from a copy;
    None without SUPERVISION_TEST_SUPERSET_PYTHON."""
    import os
    import subprocess

    python = os.environ.get("SUPERVISION_TEST_SUPERSET_PYTHON")
    if not python:
        return None
    home = tmp_path_factory.mktemp("superset_metadata")
    env = _superset_env(home)
    superset = str(Path(python).with_name("superset"))
    for args in (["db", "upgrade"], ["init"]):
        subprocess.run([superset, *args], env=env, check=True, capture_output=True, timeout=600)
    return home / "superset.db"


def _answers(url: str) -> list[tuple[list[str], list[tuple]]]:
    """Every SQL block of docs/BI.md run as supervision_bi: (column names, rows)."""
    sync_roles(url)   # this test's role passwords
    out = []
    with connect_as(BI_ROLE, url) as bi:
        for sql in sql_blocks():
            cur = bi.execute(sql)
            out.append(([d.name for d in cur.description], cur.fetchall()))
    return out


def _dicts(answer) -> list[dict]:
    cols, rows = answer
    return [dict(zip(cols, r, strict=True)) for r in rows]


def test_bi_md_answers_equal_independent_queries(built):
    url = built
    (latest,), = _rows(url, LATEST_MONTH_SQL)
    assert latest == MARCH   # the dataset's data ends in March (April holds only a planned class)
    blocks = _answers(url)
    assert len(blocks) == 6
    behind, graded_d, district_alerts, orgs, exams, precision = (_dicts(b) for b in blocks)

    # 1: the latest month of data, every district once, the year-to-date equal to the sources' count
    ytd = dict(_rows(url, SUBSIDISED_YTD_SQL, latest))
    assert {r["month"] for r in behind} == {latest}
    assert len(behind) == 16 and len({r["district_code"] for r in behind}) == 16
    for r in behind:
        assert r["ytd_value"] == ytd.get(r["district_code"], 0), r
        share = 800000 / 16 * latest.month / 12
        assert float(r["pct_of_even_share"]) == pytest.approx(round(100 * r["ytd_value"] / share, 1))
        assert r["district_name"] and r["district_name_en"]
    assert {r["district_code"]: r["district_name"] for r in behind}[XUHUI] == "徐汇区"
    (city_ytd,), = _rows(url, "select ytd_value from marts.district_target_progress where is_city_total "
                              "and metric_code = 'subsidised_training' and month = %s", latest)
    assert city_ytd == sum(ytd.values()) == sum(r["ytd_value"] for r in behind)

    # 2: grade D institutions of the latest month of data (not April, where the planned class's alert is)
    assert _rows(url, "select count(*) from marts.supervision_alerts where occurred_on > '2024-03-31'")[0][0] >= 1
    assert {r["month"] for r in graded_d} == {latest}
    assert "I1" in {r["institution_id"] for r in graded_d}
    for r in graded_d:
        (n,), = _rows(url, """select count(*) from marts.supervision_alerts where district_code = %s
                              and severity = 'high' and is_active and status in ('open', 'confirmed')
                              and occurred_on >= %s and occurred_on < %s::date + 31""",
                      r["district_code"], latest, latest)
        assert r["district_open_high_alerts"] == n
    want = _rows(url, """select rule_code, entity_key from marts.supervision_alerts where district_code = %s
                         and severity = 'high' and is_active and extract(year from occurred_on) = 2024
                         and extract(month from occurred_on) = 3""", XUHUI)
    assert want and sorted((r["rule_code"], r["entity_key"]) for r in district_alerts) == sorted(want)

    # 3: the orgs with a flagged exam, above the baseline by the rule's margin on the flagged exams' figures
    flagged = {(o, m): rate for o, m, rate in _rows(url, FLAGGED_EXAMS_SQL)}
    assert set(flagged) == {("G3", MARCH)}
    assert {(r["org_id"], r["month"]) for r in orgs} == set(flagged)
    for r in orgs:
        assert float(r["abnormal_exam_pass_rate"]) == pytest.approx(float(flagged[(r["org_id"], r["month"])]), abs=1e-4)
        assert r["above_baseline"] >= 0.25
        assert r["pass_rate"] < r["abnormal_exam_baseline_pass_rate"]   # the pooled rate hides it
    assert [r["exam_id"] for r in exams] == ["EXA"]

    # 4: rule precision equals a count of the alert table (no review yet: every alert is open or withdrawn)
    by_rule = {r[0]: r[1:] for r in _rows(url, """select rule_code, count(*),
                   count(*) filter (where status = 'open' and is_active) from marts.supervision_alerts group by 1""")}
    assert {r["rule_code"]: (r["alerts"], r["still_open"]) for r in precision} == by_rule
    assert all(r["precision_pct"] is None for r in precision)


def test_contract_checker_comments_and_districts(built):
    url = built
    spec = importlib.util.spec_from_file_location("check_contract", CHECK_CONTRACT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with psycopg.connect(url) as conn:
        checker = mod.Checker(conn)
        checker.alerts()
        checker.progress()
        checker.other_marts()
        checker.comments()
    # the small dataset triggers a few rules, not all 22: that check is the demo's, every other one holds
    failures = [f for f in checker.failures if not f.startswith("every rule has produced")]
    assert not failures, failures
    # every marts table has a description (dbt's persist_docs: relation), as every column has
    missing = _rows(url, """select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                            where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')
                              and obj_description(c.oid, 'pg_class') is null""")
    assert missing == []
    # 17 names, the city marked; the progress mart's city rows are its districts' sum
    names = _rows(url, "select district_code, district_name, district_name_en, is_city from marts.dim_districts")
    assert len(names) == 17 and [r[0] for r in names if r[3]] == ["310000"]
    assert all(r[1] and r[2] for r in names)
    doubled = _rows(url, """select month, metric_code from marts.district_target_progress
                            where metric_code <> 'apprenticeship_training' group by 1, 2
                            having sum(month_value) filter (where is_city_total)
                                   <> sum(month_value) filter (where not is_city_total)""")
    assert doubled == []
    # has_data: the months of the data, not the rest of the year
    months = _rows(url, "select distinct month from marts.district_target_progress where has_data order by 1")
    assert months[-1] == (MARCH,) and all(m[0] <= MARCH for m in months)
    for table in ("institution_scorecard", "evaluation_org_quality"):
        (last,), = _rows(url, f"select max(month) from marts.{table}")
        assert last == MARCH, table


def test_dbt_docs_are_generated_and_served_beside_the_data_docs(built, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from supervision.access import install_security
    from supervision.dbt_docs import generate_dbt_docs
    from supervision.review.app import create_app
    from supervision.review.users import hash_password
    from tests.review.conftest import login

    monkeypatch.setenv("SUPERVISION_REVIEW_SESSION_SECRET", "test-session-secret-" + "x" * 24)
    install_security(built)
    page = generate_dbt_docs(built)
    assert page.is_file() and page.parent == Path(tmp_path / "var" / "dbt_docs")
    html = page.read_text(encoding="utf-8")
    assert "rule_precision" in html and "superset_alerts_precision" in html   # models and exposures
    app = create_app(built, links_refresh_seconds=3600)
    with psycopg.connect(built) as c:
        c.execute("insert into review.users (username, password_hash) values ('docs_reader', %s) "
                  "on conflict do nothing", (hash_password("correct horse 1"),))
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            assert client.get("/data-docs/dbt", follow_redirects=False).status_code == 303   # sign in first
            login(client, "docs_reader")
            r = client.get("/data-docs/dbt")
            assert r.status_code == 200 and "rule_precision" in r.text
            assert r.headers["content-type"].startswith("text/html")
    finally:
        if app.state.review._pool:
            app.state.review._pool.close()


def test_superset_bundle_carries_descriptions_and_every_chart_answers(built, superset_metadata, tmp_path):
    """Superset leaves a dataset's description empty when it adds one (it copies column comments only):
    the bundle carries the table comments too, and the dashboards' charts. With
    SUPERVISION_TEST_SUPERSET_PYTHON (a Python that has apache-superset), it is imported into a fresh real
    Superset, connected as supervision_bi, and every chart's data is fetched without error."""
    import json
    import os
    import shutil
    import subprocess
    import zipfile

    from supervision.access import role_password
    from supervision.bi_dashboards import CHARTS, DASHBOARDS, dashboards_bundle

    sync_roles(built)
    bundle = dashboards_bundle(built, tmp_path / "supervision-superset.zip")
    comments = {r[0]: r[1] for r in _rows(built, """
        select c.relname, obj_description(c.oid, 'pg_class') from pg_class c
        join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')""")}
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        datasets = {json.loads(z.read(n))["table_name"]: json.loads(z.read(n)) for n in names if "/datasets/" in n}
        database = json.loads(z.read(next(n for n in names if "/databases/" in n)))
        charts = [json.loads(z.read(n)) for n in names if "/charts/" in n]
        assert json.loads(z.read("supervision_marts/metadata.yaml"))["type"] == "Dashboard"
    assert set(datasets) == set(comments) and "rule_precision" in datasets
    for table, ds in datasets.items():
        assert ds["description"] == comments[table] and ds["schema"] == "marts"
        assert all(c["description"] for c in ds["columns"]), table
        assert ds["database_uuid"] == database["uuid"]
    assert database["sqlalchemy_uri"].startswith("postgresql+psycopg2://supervision_bi:XXXXXXXXXX@")
    assert role_password(BI_ROLE) not in bundle.read_bytes().decode("latin-1")
    assert len(charts) == len(CHARTS) and all(c["query_context"] for c in charts)
    assert {c["dataset_uuid"] for c in charts} <= {d["uuid"] for d in datasets.values()}

    python = os.environ.get("SUPERVISION_TEST_SUPERSET_PYTHON")
    if not python or superset_metadata is None:
        pytest.skip("SUPERVISION_TEST_SUPERSET_PYTHON not set: the import into a real Superset is not tried")
    home = tmp_path / "superset"
    home.mkdir()
    shutil.copyfile(superset_metadata, home / "superset.db")   # a fresh Superset, migrated and initialised
    env = _superset_env(home)
    res = subprocess.run([python, str(Path(__file__).with_name("superset_import.py")), str(bundle),
                          role_password(BI_ROLE)], env=env, capture_output=True, text=True, timeout=600)
    line = next((x for x in res.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, res.stderr[-3000:]
    landed = json.loads(line[len("RESULT "):])
    assert set(landed["datasets"]) == set(comments)
    for table, got in landed["datasets"].items():
        assert got["description"] == comments[table] and got["columns_described"] == got["columns"], table
        assert got["database"] == "supervision_warehouse"
    assert set(landed["dashboards"]) == {d["slug"] for d in DASHBOARDS}
    assert len(landed["charts"]) == len(CHARTS)
    for title, got in landed["charts"].items():
        assert got["error"] is None and got["rows"] is not None, (title, got)
    by_title = {c["title"]: c["key"] for c in CHARTS}
    rows = {by_title[t]: got["rows"] for t, got in landed["charts"].items()}
    assert rows["target_progress"] == 16 * 7   # every district and metric, latest month of data


def test_local_superset_is_prepared_with_the_dashboards(built, superset_metadata, tmp_path):
    """``make bi``'s preparation (supervision.bi_local) against a real Superset, when one is at hand: the
    metadata made, the admin user, the bundle imported unattended and then removed (it held the password)."""
    import os
    import shutil
    import sqlite3

    python = os.environ.get("SUPERVISION_TEST_SUPERSET_PYTHON")
    if not python or superset_metadata is None:
        pytest.skip("SUPERVISION_TEST_SUPERSET_PYTHON not set")
    from supervision.bi_dashboards import CHARTS, DASHBOARDS
    from supervision.bi_local import prepare

    home = tmp_path / "superset"
    home.mkdir()
    # a metadata database already migrated: prepare() still runs its own upgrade (then a no-op) and init
    shutil.copyfile(superset_metadata, home / "superset.db")
    prepare(Path(python), home, built)
    assert not (home / "supervision-superset.zip").exists()
    assert oct((home / "superset_config.py").stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(home / "superset.db") as meta:
        assert {r[0] for r in meta.execute("select slug from dashboards")} == {d["slug"] for d in DASHBOARDS}
        assert meta.execute("select count(*) from slices").fetchone()[0] == len(CHARTS)
        assert meta.execute("select count(*) from ab_user where username = 'admin'").fetchone()[0] == 1
        (description,), = meta.execute("select description from tables where table_name = 'rule_precision'")
        assert description and "precision" in description
