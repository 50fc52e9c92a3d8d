"""The application's state: its connection pool (made on first use), alert-link refreshes, a small cache."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from supervision.review.db import Pool
from supervision.warehouse import one_row

log = logging.getLogger("supervision.review")


class Review:
    def __init__(self, warehouse_url: str | None, install: bool, links_refresh_seconds: float):
        self.warehouse_url = warehouse_url
        self.install = install
        self.links_refresh_seconds = links_refresh_seconds
        self._pool: Pool | None = None
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._last_refresh: float | None = None
        self._cache: dict[Any, tuple[float, Any]] = {}

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from supervision.access import app_url, install_security
                    from supervision.config import settings

                    url = self.warehouse_url or settings().warehouse_url()
                    if self.install:
                        install_security(url)
                    self._pool = Pool(app_url(url))
                    self._last_refresh = None
                    self.maybe_refresh_links()   # in the background: the first run links every alert
        return self._pool

    def refresh_links(self) -> int:
        """Resolve new alerts to their institution/org/person/exam (synchronously; the app does it in
        the background, at most every links_refresh_seconds; the detail page links its alert itself)."""
        with self._refreshing, self.pool.as_app() as conn:
            self._last_refresh = time.monotonic()
            return one_row(conn.execute("select review.refresh_alert_links(null) as n"))["n"]

    def maybe_refresh_links(self) -> None:
        """At most every links_refresh_seconds, in a background thread, never blocking a request."""
        if self._refreshing.locked() or (
                self._last_refresh is not None and time.monotonic() - self._last_refresh < self.links_refresh_seconds):
            return
        self._last_refresh = time.monotonic()

        def run():
            try:
                self.refresh_links()
            except Exception:   # noqa: BLE001 - a background nicety; the next request retries
                log.exception("refreshing alert links failed")
        threading.Thread(target=run, daemon=True, name="review-links").start()

    def cached(self, key, seconds: float, fn):
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit and now - hit[0] < seconds:
            return hit[1]
        val = fn()
        self._cache[key] = (now, val)
        if len(self._cache) > 256:
            self._cache.clear()
        return val
