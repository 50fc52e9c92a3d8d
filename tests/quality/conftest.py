"""Fixtures of the quality tests: a GX folder under pytest's tmp (never the repo's var/), and a
module-scoped warehouse for scenarios that are loaded once and validated once."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _var_dir(tmp_path, monkeypatch) -> None:
    """settings().gx_dir (and everything else under var/) points into this test's tmp folder."""
    monkeypatch.setenv("SUPERVISION_VAR_DIR", str(tmp_path / "var"))


@pytest.fixture(scope="module")
def module_warehouse(pg_admin_url) -> Iterator[str]:
    """A fresh warehouse database shared by the tests of one module."""
    import psycopg

    from supervision.warehouse import bootstrap

    name = "q_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = pg_admin_url.rsplit("/", 1)[0] + "/" + name
    bootstrap(url)
    try:
        yield url
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def module_gx_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gx")
