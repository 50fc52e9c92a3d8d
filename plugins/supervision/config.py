"""Settings of the platform: every knob comes from a ``SUPERVISION_*`` variable with a working default.

| variable | default |
|---|---|
| SUPERVISION_HOME | the repository root (folder holding ``dbt_project/``) |
| SUPERVISION_VAR_DIR | ``$SUPERVISION_HOME/var``: embedded server data, Airflow home, secrets, landing |
| SUPERVISION_WAREHOUSE_URL | the embedded server's ``warehouse`` database |
| SUPERVISION_TRAINING_DB_URL | the embedded server's ``training_platform`` database (the demo source) |
| SUPERVISION_LANDING_URL | ``$SUPERVISION_VAR_DIR/landing`` |
| SUPERVISION_PII_KEY | a random key made once and kept in ``$SUPERVISION_VAR_DIR/secrets.json`` (mode 0600) |
| SUPERVISION_AIRFLOW_DB_URL | the embedded server's ``airflow`` database |
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

LOCAL_TZ = "Asia/Shanghai"
CITY_CODE = "310000"
DISTRICTS = {
    "310101": "黃浦", "310104": "徐匯", "310105": "長寧", "310106": "靜安", "310107": "普陀",
    "310109": "虹口", "310110": "楊浦", "310112": "閔行", "310113": "寶山", "310114": "嘉定",
    "310115": "浦東新區", "310116": "金山", "310117": "松江", "310118": "青浦", "310120": "奉賢",
    "310151": "崇明",
}


def _find_home() -> Path:
    env = os.environ.get("SUPERVISION_HOME")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[2]  # plugins/supervision/config.py -> repo root
    if (here / "dbt_project").is_dir():
        return here
    cwd = Path.cwd().resolve()
    for p in (cwd, *cwd.parents):
        if (p / "dbt_project").is_dir() and (p / "plugins").is_dir():
            return p
    return here


@dataclass(frozen=True)
class Settings:
    home: Path
    var_dir: Path

    @classmethod
    def load(cls) -> Settings:
        home = _find_home()
        var = Path(os.environ.get("SUPERVISION_VAR_DIR") or home / "var").resolve()
        return cls(home=home, var_dir=var)

    # --- folders -------------------------------------------------------------------------------
    @property
    def pgdata(self) -> Path:
        return self.var_dir / "pgdata"

    @property
    def airflow_home(self) -> Path:
        return self.var_dir / "airflow"

    @property
    def dbt_project_dir(self) -> Path:
        return self.home / "dbt_project"

    @property
    def dags_dir(self) -> Path:
        return self.home / "dags"

    @property
    def expectations_dir(self) -> Path:
        return self.home / "expectations"

    @property
    def gx_dir(self) -> Path:
        return self.var_dir / "gx"

    @property
    def landing(self) -> Path:
        url = os.environ.get("SUPERVISION_LANDING_URL")
        if url:
            if url.startswith("file://"):
                url = url[len("file://"):]
            if "://" in url:
                raise ValueError(f"SUPERVISION_LANDING_URL {url!r}: only local folders (or file://) are supported")
            return Path(url).resolve()
        return self.var_dir / "landing"

    # --- secrets -------------------------------------------------------------------------------
    @property
    def secrets_file(self) -> Path:
        return self.var_dir / "secrets.json"

    def secret(self, name: str, env: str | None = None) -> str:
        """A secret from the environment, else from var/secrets.json, made there on first use."""
        if env and os.environ.get(env):
            return os.environ[env]
        self.var_dir.mkdir(parents=True, exist_ok=True)
        data = json.loads(self.secrets_file.read_text()) if self.secrets_file.exists() else {}
        if name not in data:
            data[name] = secrets.token_urlsafe(24)
            tmp = self.secrets_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1))
            tmp.chmod(0o600)
            tmp.replace(self.secrets_file)
        return data[name]

    @cached_property
    def pii_key(self) -> bytes:
        return self.secret("pii_key", "SUPERVISION_PII_KEY").encode()

    # --- URLs ----------------------------------------------------------------------------------
    @property
    def external_warehouse(self) -> bool:
        return bool(os.environ.get("SUPERVISION_WAREHOUSE_URL"))

    def warehouse_url(self) -> str:
        return os.environ.get("SUPERVISION_WAREHOUSE_URL") or self._embedded_url("warehouse")

    def training_db_url(self) -> str:
        return os.environ.get("SUPERVISION_TRAINING_DB_URL") or self._embedded_url("training_platform")

    def airflow_db_url(self) -> str:
        return os.environ.get("SUPERVISION_AIRFLOW_DB_URL") or self._embedded_url("airflow")

    def _embedded_url(self, database: str) -> str:
        from supervision.warehouse import EmbeddedServer

        return EmbeddedServer(self).url(database)


def settings() -> Settings:
    return Settings.load()


def sqlalchemy_url(url: str) -> str:
    """The same URL with the psycopg 3 driver named, as SQLAlchemy wants it."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def libpq_url(url: str) -> str:
    """The same URL without a SQLAlchemy driver suffix, as psycopg and libpq want it."""
    if url.startswith("postgresql+"):
        return "postgresql://" + url.split("://", 1)[1]
    return url
