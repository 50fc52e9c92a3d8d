"""A local Superset with the supervision dashboards, connected as ``supervision_bi`` (``make bi``).

Superset lives in its own environment (``.superset/`` in the checkout, git-ignored: its dependencies
are not the platform's) and keeps its metadata in ``$SUPERVISION_VAR_DIR/superset/`` (SQLite). Each
start brings the metadata up to date, makes the ``admin`` user (password ``superset_admin_password``
in the secrets file), imports the bundle of ``supervision.bi_dashboards`` (datasets with their
descriptions, dashboards) and serves on 127.0.0.1.

    python -m supervision.bi_local --uv .tools/boot/bin/uv [--port 8088] [--no-serve]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

# Superset 6.1.0 installs newer flask-caching, which its cache set-up refuses, and imports rich and
# cachetools without declaring them.
REQUIREMENTS = ("apache-superset==6.1.0", "psycopg2-binary", "flask-caching==2.3.1", "rich", "cachetools")


def superset_python(env_dir: Path, uv: str) -> Path:
    """The Python of the Superset environment, made with ``uv`` on first use."""
    python = env_dir / "bin" / "python"
    if not (env_dir / "bin" / "superset").exists():
        subprocess.run([uv, "venv", "-q", "-p", "3.11", str(env_dir)], check=True)
        subprocess.run([uv, "pip", "install", "-q", "--python", str(python), *REQUIREMENTS], check=True)
    return python


def prepare(python: Path, home: Path, warehouse_url: str | None = None, host: str | None = None,
            port: int | None = None) -> dict[str, str]:
    """Metadata up to date, the admin user, the bundle imported; the environment to run ``superset`` in."""
    from supervision.access import sync_roles
    from supervision.bi_dashboards import dashboards_bundle
    from supervision.config import settings

    s = settings()
    url = warehouse_url or s.warehouse_url()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "superset_config.py"
    config.write_text(f"SECRET_KEY = {s.secret('superset_secret_key')!r}\n"
                      f"SQLALCHEMY_DATABASE_URI = {'sqlite:///' + str(home / 'superset.db')!r}\n", encoding="utf-8")
    os.chmod(config, 0o600)   # it holds the secret key
    env = {**os.environ, "SUPERSET_CONFIG_PATH": str(config), "SUPERSET_HOME": str(home)}
    superset = str(python.with_name("superset"))

    def run(*args: str) -> None:
        subprocess.run([superset, *args], env=env, check=True, stdout=subprocess.DEVNULL)

    run("db", "upgrade")
    run("init")
    done = subprocess.run([superset, "fab", "list-users"], env=env, capture_output=True, text=True)
    if "admin" not in done.stdout:
        run("fab", "create-admin", "--username", "admin", "--firstname", "Supervision", "--lastname", "Admin",
            "--email", "admin@localhost", "--password", s.secret("superset_admin_password"))
    sync_roles(url)
    bundle = home / "supervision-superset.zip"
    dashboards_bundle(url, bundle, host=host, port=port, with_password=True)
    try:
        os.chmod(bundle, 0o600)
        run("import-dashboards", "-p", str(bundle), "-u", "admin")
    finally:
        bundle.unlink(missing_ok=True)   # it holds the BI password
    return env


def main(argv: list[str] | None = None) -> int:
    from supervision.config import settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uv", required=True, help="the uv that makes the Superset environment")
    ap.add_argument("--env-dir", default=None, help="the Superset environment (default: .superset in the checkout)")
    ap.add_argument("--port", type=int, default=8088)
    ap.add_argument("--no-serve", action="store_true", help="prepare and import, do not serve")
    args = ap.parse_args(argv)
    s = settings()
    python = superset_python(Path(args.env_dir) if args.env_dir else s.home / ".superset", args.uv)
    env = prepare(python, s.var_dir / "superset")
    print(f"Superset: http://127.0.0.1:{args.port}  (user admin, password superset_admin_password in "
          f"{s.secrets_file}); dashboards under Dashboards", flush=True)
    if args.no_serve:
        return 0
    return subprocess.call([str(python.with_name("superset")), "run", "-h", "127.0.0.1", "-p", str(args.port),
                            "--with-threads"], env=env)


if __name__ == "__main__":
    sys.exit(main())
