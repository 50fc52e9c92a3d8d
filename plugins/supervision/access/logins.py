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


def connection_settings(role: str, warehouse_url: str | None = None, host: str | None = None,
                        port: int | None = None) -> dict[str, str]:
    """What an administrator hands an analyst for ``role`` (a BI or reviewer login): host, port,
    database, user, password, schema and sslmode as the warehouse URL has them (``host``/``port``
    override the address, e.g. the name BI tools reach a compose deployment by), and the URIs
    libpq and SQLAlchemy (Superset) take. Only logins meant for people's tools are printable."""
    from supervision.access.names import BI_ROLE, reviewer_roles

    if role != BI_ROLE and role not in reviewer_roles():
        raise ValueError(f"{role!r} is not a BI or reviewer login: one of {BI_ROLE}, reviewer_city, "
                         f"reviewer_<district code>")
    if warehouse_url is None:
        from supervision.config import settings

        warehouse_url = settings().warehouse_url()
    parts = urlsplit(warehouse_url)
    params = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    out = {
        "host": host or parts.hostname or "127.0.0.1",
        "port": str(port or parts.port or 5432),
        "database": parts.path.lstrip("/") or "warehouse",
        "user": role,
        "password": role_password(role),
        "schema": "marts" if role == BI_ROLE else "marts (table supervision_alerts)",
        "sslmode": params.get("sslmode", "prefer"),
    }
    hostport = f"{out['host']}:{out['port']}" if ":" not in out["host"] else f"[{out['host']}]:{out['port']}"
    auth = f"{quote(role, safe='')}:{quote(out['password'], safe='')}"
    query = f"?sslmode={out['sslmode']}" if out["sslmode"] not in ("prefer", "") else ""
    out["libpq_uri"] = f"postgresql://{auth}@{hostport}/{out['database']}{query}"
    out["sqlalchemy_uri"] = f"postgresql+psycopg2://{auth}@{hostport}/{out['database']}{query}"
    return out
