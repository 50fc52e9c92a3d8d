"""Same seed, same bytes; one call for a range equals consecutive calls; any SQLAlchemy database."""
from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import psycopg
import sqlalchemy as sa

from supervision.simulator import generate
from supervision.simulator.formats import ddl_columns
from tests.simulator.conftest import drop_db, make_db

KW = dict(scale=0.01, seed=99, anomaly_rate=0.07, fault_rate=0.2)


def tree(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under root."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def dump(url: str) -> dict[str, list]:
    out = {}
    with psycopg.connect(url) as conn:
        for table, (_cols, pk) in ddl_columns().items():
            out[table] = conn.execute(f"select * from {table} order by {', '.join(pk)}").fetchall()
    return out


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for root, seed in ((a, 99), (b, 99), (c, 100)):
        generate(date(2024, 1, 2), date(2024, 1, 3), landing=root / "landing", labels_dir=root / "labels",
                 write_db=False, **dict(KW, seed=seed))
    ta, tb, tc = tree(a), tree(b), tree(c)
    assert ta == tb
    assert any(p.startswith("landing/video/") for p in ta) and any(p.startswith("landing/assessment/") for p in ta)
    assert "labels/labels.csv" in ta and "labels/faults.csv" in ta
    assert ta != tc


def test_consecutive_calls_equal_one_call(pg_admin_url, tmp_path):
    one, split = make_db(pg_admin_url), make_db(pg_admin_url)

    def gen(a: date, b: date, url: str, name: str) -> None:
        generate(a, b, training_db_url=url, landing=tmp_path / name / "landing", labels_dir=tmp_path / name / "labels",
                 **KW)

    try:
        gen(date(2024, 1, 1), date(2024, 1, 3), one, "one")
        gen(date(2024, 1, 1), date(2024, 1, 2), split, "split")
        gen(date(2024, 1, 3), date(2024, 1, 3), split, "split")
        assert tree(tmp_path / "one") == tree(tmp_path / "split")
        d1 = dump(one)
        assert d1 == dump(split)
        assert all(d1[t] for t in ("sessions", "attendance", "subsidy_claims", "trainees"))
        # running a day again changes nothing
        before = tree(tmp_path / "split")
        gen(date(2024, 1, 2), date(2024, 1, 2), split, "split")
        assert tree(tmp_path / "split") == before and dump(split) == d1
    finally:
        drop_db(pg_admin_url, one)
        drop_db(pg_admin_url, split)


def test_later_calls_add_files_to_earlier_dates_and_never_change_a_file(run, tmp_path):
    """Late and re-delivered video files of a date arrive with the deliveries of later days."""
    import csv

    with (run.labels_dir / "faults.csv").open(encoding="utf-8") as f:
        resend = [r for r in csv.DictReader(f) if r["fault"] == "truncated_gzip"]
    late = [r for r in resend if r["object"].split("/")[1] != "date=" + r["day"]]
    assert late, "a re-delivery lands in an earlier date= folder"
    first = {p.relative_to(run.landing).as_posix() for p in run.landing.rglob("*") if p.is_file()}
    assert all(r["object"] in first for r in late)


def test_any_sqlalchemy_database(tmp_path):
    """Without PostgreSQL the tables are created from the same DDL and written with Core statements."""
    url = f"sqlite:///{tmp_path / 'training.db'}"
    kw = dict(training_db_url=url, landing=tmp_path / "landing", labels_dir=tmp_path / "labels",
              scale=0.01, seed=3, anomaly_rate=0.07, fault_rate=0.0)
    s1 = generate(date(2024, 1, 1), date(2024, 1, 2), **kw)
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        counts = {t: conn.exec_driver_sql(f"select count(*) from {t}").scalar() for t in ddl_columns()}
        assert set(sa.inspect(eng).get_table_names()) == set(ddl_columns())
    assert counts["attendance"] == s1["rows"]["attendance"] > 0
    assert counts["sessions"] > 0 and counts["trainees"] > 0
    generate(date(2024, 1, 1), date(2024, 1, 2), **kw)       # rewriting the same versions changes nothing
    with eng.connect() as conn:
        assert counts == {t: conn.exec_driver_sql(f"select count(*) from {t}").scalar() for t in ddl_columns()}
    eng.dispose()
