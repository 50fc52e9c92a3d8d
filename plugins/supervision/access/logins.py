"""Login passwords and the URLs that carry them.

A role's password comes from ``settings().secret("<role>_password", "SUPERVISION_<NAME>_PASSWORD")``:
the environment variable wins, else ``$SUPERVISION_VAR_DIR/secrets.json`` (made on first use). The
application's login is no exception: ``supervision_app`` reads ``SUPERVISION_APP_PASSWORD``.
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from supervision.access.names import APP_ROLE


def role_password(role: str) -> str:
    from supervision.config import settings

    return settings().role_password(role)


def role_url(role: str, warehouse_url: str | None = None) -> str:
    """The warehouse URL with ``role`` and its password as the user (scheme, host, port, database and
    query kept; default: the settings' warehouse URL)."""
    if warehouse_url is None:
        from supervision.config import settings

        warehouse_url = settings().warehouse_url()
    parts = urlsplit(warehouse_url)
    hostport = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(role, safe='')}:{quote(role_password(role), safe='')}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def app_url(warehouse_url: str | None = None) -> str:
    """The review application's login URL, as libpq takes it (no SQLAlchemy driver suffix)."""
    from supervision.config import libpq_url

    return libpq_url(role_url(APP_ROLE, warehouse_url))
