"""The dbt docs start from the marts builds' partial parse (Cosmos' cache) when it is newer, and
parse the whole project when that cache cannot be read (its helpers are not Cosmos' public API)."""
from __future__ import annotations

import logging
import os

import pytest

cosmos_cache = pytest.importorskip("cosmos.cache")


def test_the_builds_newer_parse_is_copied_and_pointed_at_the_project(tmp_path, monkeypatch):
    from supervision import dbt_docs
    from supervision.dbt_runner import project_dir

    cached = tmp_path / "cache" / "partial_parse.msgpack"
    cached.parent.mkdir()
    cached.write_bytes(b"the builds' parse")
    target = tmp_path / "docs"
    target.mkdir()
    patched = []
    monkeypatch.setattr(cosmos_cache, "_obtain_cache_dir_path", lambda name: cached.parent)
    monkeypatch.setattr(cosmos_cache, "get_partial_parse_path", lambda folder: folder / cached.name)
    monkeypatch.setattr(cosmos_cache, "patch_partial_parse_content", lambda path, project: patched.append((path, project)))
    dbt_docs._start_from_the_builds_parse(target)
    assert (target / cached.name).read_bytes() == b"the builds' parse"
    assert patched == [(target / cached.name, project_dir())]

    # the docs' own parse is newer now: left alone
    os.utime(cached, (1, 1))
    (target / cached.name).write_bytes(b"the docs' own parse")
    dbt_docs._start_from_the_builds_parse(target)
    assert (target / cached.name).read_bytes() == b"the docs' own parse"


def test_an_unreadable_cache_means_a_full_parse_not_a_failure(tmp_path, monkeypatch, caplog):
    from supervision import dbt_docs

    def moved(*args, **kwargs):
        raise AttributeError("module 'cosmos.cache' has no attribute '_obtain_cache_dir_path'")

    monkeypatch.setattr(cosmos_cache, "_obtain_cache_dir_path", moved)
    with caplog.at_level(logging.WARNING, logger="supervision.dbt_docs"):
        dbt_docs._start_from_the_builds_parse(tmp_path)
    assert "parsing the whole project" in caplog.text and "_obtain_cache_dir_path" in caplog.text
    assert list(tmp_path.iterdir()) == []
