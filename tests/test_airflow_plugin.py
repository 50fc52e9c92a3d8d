"""The Airflow plugin entry file mounts the review app without touching the warehouse at import."""
from __future__ import annotations

import runpy
import socket

import pytest

from tests.conftest import REPO


def test_plugin_imports_without_io_and_lists_the_review_app(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("the plugin connected somewhere at import time")

    monkeypatch.setattr(socket.socket, "connect", forbidden)
    ns = runpy.run_path(str(REPO / "plugins" / "supervision_plugin.py"))
    plugin = ns["SupervisionPlugin"]
    assert plugin.name == "supervision"
    apps = plugin.fastapi_apps
    assert len(apps) == 1 and apps[0]["url_prefix"] == "/supervision"
    assert callable(apps[0]["app"])


@pytest.mark.parametrize("name", ["supervision_plugin.py"])
def test_only_the_entry_file_is_scanned(name):
    files = [p.name for p in (REPO / "plugins").glob("*.py")]
    assert files == [name]
