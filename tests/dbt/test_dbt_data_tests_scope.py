"""Data tests of the large facts read the rows the latest build wrote (macros/data_tests_scope.sql):
a bad row there fails the daily test; a bad row left by an older build is outside the daily scope
and is caught by the whole-history sweep (--vars data_tests_scope: all). The bounds are written
into the test as literals (so PostgreSQL can use the _built_at / _loaded_at indexes)."""
from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from supervision.dbt_runner import DbtError, run_dbt
from tests.conftest import dbt_target

pytestmark = pytest.mark.slow  # not in `make test-fast` (real dbt builds, services or subprocesses)

HERE = Path(__file__).resolve().parent
CHECKINS_TESTS = ["--select", "fct_session_checkins", "--exclude", "test_type:unit"]


def _exec(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _failing_tests(url: str, target: list[str], *extra: str) -> set[str]:
    try:
        run_dbt(["test", *CHECKINS_TESTS, *target], url, vars=dict(extra) if extra else None)
    except DbtError as err:
        return set(re.findall(r"test\.supervision\.(\w+?)\.[0-9a-f]{10}", str(err))) or {str(err)[:300]}
    return set()


def test_daily_data_tests_read_the_latest_build_and_the_sweep_reads_all(warehouse_db: str, tmp_path: Path) -> None:
    target = dbt_target(tmp_path / "target")
    _exec(warehouse_db, (HERE / "raw_dataset.sql").read_text(encoding="utf-8"))
    run_dbt(["build", "--resource-type", "model", "--resource-type", "seed", "--exclude", "tag:after_alerts", *target],
            warehouse_db)
    assert _failing_tests(warehouse_db, target) == set()
    with psycopg.connect(warehouse_db) as conn:
        n, builds = conn.execute("select count(*), count(distinct _built_at) from core.fct_session_checkins").fetchone()
    assert n > 0 and builds == 1

    # a repeated (session, trainee) in the latest build's rows: the daily test fails
    _exec(warehouse_db, "insert into core.fct_session_checkins select (c).* from ("
                        " select c from core.fct_session_checkins c limit 1) x")
    daily = _failing_tests(warehouse_db, target)
    assert any(t.startswith("column_checks_fct_session_checkins") for t in daily), daily

    # the compiled daily test bounds _built_at by a literal, not by a subquery the planner cannot see through
    compiled = [p.read_text() for p in (tmp_path / "target" / "compiled").rglob("*.sql")]
    sql = next(s for s in compiled if "from (select * from" in s and "fct_session_checkins\" where" in s
               and "group by session_id, trainee_id" in s)
    assert re.search(r"_built_at >= '\d{4}-\d\d-\d\d[ T][\d:.+]+'::timestamptz", sql), sql
    assert "select max(_built_at)" not in sql

    # the same left by an older build: outside the daily scope, caught by the sweep (last: a change of
    # the vars makes dbt parse the project again)
    _exec(warehouse_db, "update core.fct_session_checkins set _built_at = '2000-01-01'"
                        " where ctid = (select max(ctid) from core.fct_session_checkins)")
    assert _failing_tests(warehouse_db, target) == set()
    swept = _failing_tests(warehouse_db, target, ("data_tests_scope", "all"))
    assert any(t.startswith("column_checks_fct_session_checkins") for t in swept), swept


def test_staging_attendance_key_tests_read_every_pull_no_passing_test_has_read(warehouse_db: str,
                                                                             tmp_path: Path) -> None:
    _exec(warehouse_db, (HERE / "raw_dataset.sql").read_text(encoding="utf-8"))
    target = dbt_target(tmp_path / "target")
    changed = {"data_tests_scope": "changed"}  # each change of the vars makes dbt parse the project again

    def compiled_test(**more: object) -> str:
        run_dbt(["compile", "--select", "stg_training__attendance", *target], warehouse_db, vars={**changed, **more})
        return next((tmp_path / "target" / "compiled").rglob("column_checks_stg_training__attendance_*.sql")).read_text()

    def rows_where(condition: str) -> int:
        with psycopg.connect(warehouse_db) as conn:
            return conn.execute(f"select count(*) from raw_training.attendance where {condition}").fetchone()[0]

    def scoped_rows(**more: object) -> int:
        sql = compiled_test(**more)
        bound = re.search(r"_loaded_at >= ('\d{4}-\d\d-\d\d[ T][\d:.+]+'::timestamptz)", sql)
        assert bound, sql
        return rows_where(f"_loaded_at >= {bound[1]}")

    def pull(hours: int, condition: str) -> int:
        """A pull ``hours`` after the dataset's load that rewrote the rows of ``condition``."""
        with psycopg.connect(warehouse_db, autocommit=True) as conn:
            return conn.execute(f"update raw_training.attendance set _loaded_at = (select min(_loaded_at) from"
                                f" raw_training.attendance) + interval '{hours} hours' where {condition}").rowcount

    def passing_test_run() -> None:
        run_dbt(["test", "--select", "stg_training__attendance", *target], warehouse_db, vars=changed)

    def mark() -> object:
        with psycopg.connect(warehouse_db) as conn:
            return conn.execute("select tested_through from ops.data_tests_loads_tested"
                                " where raw_table = 'raw_training.attendance'").fetchone()

    def newest() -> tuple:
        with psycopg.connect(warehouse_db) as conn:
            return conn.execute("select max(_loaded_at) from raw_training.attendance").fetchone()

    # before the view exists the bound cannot be read: compiling still works (the bound as a subquery)
    first = compiled_test()
    assert "_loaded_at >= (with recursive pulls" in first and "least((select min(loaded_at)" in first, first
    run_dbt(["run", "--select", "stg_training__attendance", *target], warehouse_db, vars=changed)
    # the dataset's load, days ago: every pull below is in the past (a mark stops at the run's start)
    _exec(warehouse_db, "update raw_training.attendance set _loaded_at = _loaded_at - interval '200 hours'")
    rows = rows_where("true")
    # two pulls of the same night, an hour apart: a third of the rows came with the later one
    later = pull(1, "attendance_id % 3 = 0")
    assert 0 < later < rows

    # never tested: every pull is read
    assert mark() is None
    assert scoped_rows() == rows
    # a passing test run marks the newest pull: the next scope is the latest pull alone
    passing_test_run()
    assert mark() is not None
    assert scoped_rows() == later

    # a night whose marts stopped before the tests (its pull never tested), then the next night's
    # pull: both are read, not the latest pull alone
    stopped = pull(24, "attendance_id % 3 = 1 and attendance_id % 2 = 0")
    next_night = pull(48, "attendance_id % 3 = 1 and attendance_id % 2 = 1")
    assert stopped and next_night
    assert scoped_rows() == stopped + next_night

    # a failing test does not move the mark: a repeated key in the next pull (the raw table's primary
    # key taken away for it) stays in the scope, with every later pull, until a test run passes
    passing_test_run()
    assert scoped_rows() == next_night
    before = mark()
    _exec(warehouse_db, "alter table raw_training.attendance drop constraint attendance_pkey;"
                        " insert into raw_training.attendance select * from raw_training.attendance"
                        " where attendance_id = (select min(attendance_id) from raw_training.attendance)")
    repeated = pull(72, "attendance_id = (select min(attendance_id) from raw_training.attendance)")
    assert repeated == 2
    with pytest.raises(DbtError, match="column_checks_stg_training__attendance"):
        passing_test_run()
    assert mark() == before
    newer = pull(96, "attendance_id % 3 = 2 and attendance_id % 2 = 0")
    assert newer > 0
    assert scoped_rows() == repeated + newer
    with pytest.raises(DbtError, match="column_checks_stg_training__attendance"):
        passing_test_run()
    assert mark() == before
    # mended: a passing run marks the newest pull
    _exec(warehouse_db, "delete from raw_training.attendance where ctid = (select max(ctid) from raw_training.attendance"
                        " where attendance_id = (select min(attendance_id) from raw_training.attendance))")
    passing_test_run()
    assert mark() == newest() != before
    assert scoped_rows() == newer

    # a warehouse without the table of marks (`supervision dbt` before the pipeline bootstrapped it
    # for this code): every pull is read, and a passing run writes nothing and fails nothing
    _exec(warehouse_db, "alter table ops.data_tests_loads_tested rename to data_tests_loads_tested_away")
    assert scoped_rows() == rows_where("true")
    passing_test_run()
    _exec(warehouse_db, "alter table ops.data_tests_loads_tested_away rename to data_tests_loads_tested")

    # at least the latest N pulls (data_tests_loads_pulls), whatever the mark says
    assert scoped_rows(data_tests_loads_pulls=2) == rows_where(
        "_loaded_at >= (select min(_loaded_at) from raw_training.attendance) + interval '72 hours'") > newer
    # the whole-history sweep: no bound; when it passes it marks the newest pull too
    swept = compiled_test(data_tests_scope="all")
    assert "_loaded_at >=" not in swept and "where true" in swept, swept
    before = mark()
    assert pull(120, "attendance_id % 3 = 2 and attendance_id % 2 = 1") > 0
    run_dbt(["test", "--select", "stg_training__attendance", *target], warehouse_db,
            vars={"data_tests_scope": "all"})
    assert mark() == newest() != before
