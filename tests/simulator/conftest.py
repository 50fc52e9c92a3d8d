"""One small simulated world shared by the simulator's tests (scale 0.01, a working week).

Days 2024-01-02..01-04 are generated in one call and 01-05..01-08 in a second, so that every
scenario of the first days is complete (late video, next-day corrections) when the tests read it."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

SEED = 5
SCALE = 0.01
FIRST, MIDDLE, LAST = date(2024, 1, 2), date(2024, 1, 4), date(2024, 1, 8)
RATE = 0.07          # with scale 0.01: at least one instance of every rule on every working day
FAULT_RATE = 0.2     # every fault kind in every file


@dataclass
class Run:
    url: str
    landing: Path
    labels_dir: Path
    summaries: list[dict]


def make_db(pg_admin_url: str) -> str:
    import psycopg

    name = "sim_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return pg_admin_url.rsplit("/", 1)[0] + "/" + name


def drop_db(pg_admin_url: str, url: str) -> None:
    import psycopg

    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{url.rsplit("/", 1)[1]}" with (force)')


@pytest.fixture(scope="session")
def run(pg_admin_url, tmp_path_factory) -> Iterator[Run]:
    from supervision.simulator import generate

    root = tmp_path_factory.mktemp("sim")
    url = make_db(pg_admin_url)
    kw = dict(scale=SCALE, seed=SEED, training_db_url=url, landing=root / "landing", labels_dir=root / "labels",
              anomaly_rate=RATE, fault_rate=FAULT_RATE)
    s1 = generate(FIRST, MIDDLE, **kw)
    s2 = generate(date(2024, 1, 5), LAST, **kw)
    try:
        yield Run(url, root / "landing", root / "labels", [s1, s2])
    finally:
        drop_db(pg_admin_url, url)


@pytest.fixture(scope="session")
def sources(run):
    """The run's sources as the oracle reads them (latest DB rows, valid video events, CSV rows)."""
    from tests.simulator import oracle

    return oracle.load(run.url, run.landing)


@pytest.fixture(scope="session")
def oracle_findings(sources) -> set[tuple[str, str]]:
    from tests.simulator import oracle

    return oracle.findings(sources)
