"""Settings of the platform: the one reader of the ``SUPERVISION_*`` environment and of ``var/secrets.json``.

:class:`Settings` (pydantic-settings) declares every variable with its meaning and default; every
other module receives a ``Settings`` (``settings()``) and never reads ``os.environ`` for a
``SUPERVISION_*`` name. Secrets that are not set in the environment are made once and kept in
``$SUPERVISION_VAR_DIR/secrets.json`` (mode 0600). The README's configuration table is
:func:`configuration_table` (``python -m supervision.config`` prints it; a test keeps them equal).

The embedded server's port is data (``$SUPERVISION_VAR_DIR/warehouse.json``, written by
``supervision.warehouse.EmbeddedServer``), so this module does not import the server.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings import SettingsError as _SourceError

LOCAL_TZ = "Asia/Shanghai"
CITY_CODE = "310000"
DISTRICTS = {
    "310101": "黄浦", "310104": "徐汇", "310105": "长宁", "310106": "静安", "310107": "普陀",
    "310109": "虹口", "310110": "杨浦", "310112": "闵行", "310113": "宝山", "310114": "嘉定",
    "310115": "浦东新区", "310116": "金山", "310117": "松江", "310118": "青浦", "310120": "奉贤",
    "310151": "崇明",
}

ENV_PREFIX = "SUPERVISION_"
# The embedded server (supervision.warehouse) writes its port here and owns the database as this user
# on this address; the settings read them to build its URLs.
EMBEDDED_STATE_FILE = "warehouse.json"
EMBEDDED_OWNER = "postgres"
EMBEDDED_HOST = "127.0.0.1"
EMBEDDED_OWNER_SECRET = "warehouse_owner_password"

_REVIEWER_ENV = re.compile(r"SUPERVISION_REVIEWER_([0-9]{6})_PASSWORD", re.IGNORECASE)
_TZ_NAME = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")  # safe inside an SQL literal, too


class ConfigError(ValueError):
    """A ``SUPERVISION_*`` variable (or a value given to Settings) is not valid; the message names it."""


def _find_home() -> Path:
    """The repository root: the folder holding ``dbt_project/`` next to this package, else above the cwd."""
    here = Path(__file__).resolve().parents[2]  # plugins/supervision/config.py -> repo root
    if (here / "dbt_project").is_dir():
        return here
    cwd = Path.cwd().resolve()
    for p in (cwd, *cwd.parents):
        if (p / "dbt_project").is_dir() and (p / "plugins").is_dir():
            return p
    return here


def _setting(default: Any = None, *, meaning: str, shown: str, env: str | None = None, **kw: Any) -> Any:
    """A field with what the README table says of it: ``meaning``, ``shown`` (its default, in words)
    and, when the field's name is not the variable's, ``env``."""
    extra: dict[str, Any] = {"shown_default": shown}
    if env:
        kw["validation_alias"] = env
    return Field(default, description=meaning, json_schema_extra=extra, **kw)


class _ReviewerPasswords(PydanticBaseSettingsSource):
    """``SUPERVISION_REVIEWER_<district code>_PASSWORD`` (one per district) as ``reviewer_passwords``."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {m.group(1): value for name, value in os.environ.items()
                 if (m := _REVIEWER_ENV.fullmatch(name)) and value}
        return {"reviewer_passwords": found} if found else {}


class Settings(BaseSettings):
    """Every ``SUPERVISION_*`` variable, typed, with its working default (the embedded demo)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore",
                                      frozen=True, populate_by_name=True)

    # --- folders -------------------------------------------------------------------------------
    home: Path = _setting(meaning="the repository (folder holding `dbt_project/`, `dags/`, `expectations/`)",
                          shown="the repository this package is in")
    var_dir: Path = _setting(meaning="where the embedded server, Airflow home, secrets, logs and landing live",
                             shown="`$SUPERVISION_HOME/var`")
    landing_url: str | None = _setting(meaning="folder (or `file://` URL) that holds `video/` and `assessment/`",
                                       shown="`$SUPERVISION_VAR_DIR/landing`")
    local_tz: str = _setting(LOCAL_TZ, meaning="the business calendar's time zone (IANA name): local days, "
                                               "DAG schedules, dbt's `local_timezone`, the GX flags",
                             shown=f"`{LOCAL_TZ}`")
    daily_run_hour: int = _setting(2, ge=0, le=23,
                                   meaning="local hour of day D+1 at which the scheduler starts the runs for "
                                           "business day D (after D has closed; late files are still picked up "
                                           "by the next day's run)", shown="`2`")
    schedule_start: date = _setting(date(2024, 1, 1),
                                    meaning="the first business day the DAGs' schedules hold (go-live): the scheduler "
                                            "never runs an earlier day (`airflow backfill create` may: history before "
                                            "go-live)",
                                    shown="`2024-01-01`")
    schedule_end: date | None = _setting(meaning="the last business day the DAGs' schedules hold (a pilot's or a "
                                                 "period's end; Airflow's `end_date`): the scheduler creates no run "
                                                 "for a later day", shown="none (no end)")
    schedule_catchup: bool = _setting(False, meaning="when the DAGs are unpaused, the scheduler runs every business "
                                                     "day from `SUPERVISION_SCHEDULE_START` up to yesterday, oldest "
                                                     "first, one day at a time (Airflow's catchup); off: only the "
                                                     "newest day, and older days by `airflow backfill create`",
                                      shown="`false`")
    sensor_poke_seconds: int = _setting(30, ge=1, le=3600,
                                        meaning="how often a waiting run checks again (in the triggerer; deferred): the marts "
                                                "run for its day's ingestion, an ingestion run for the previous "
                                                "day's marts", shown="`30`")
    worker_preload: bool = _setting(True, meaning="each Celery worker imports the DAGs' modules, dbt and Great "
                                                  "Expectations once, before its pool starts, so every task process "
                                                  "(forked from it) starts with them in memory "
                                                  "(`supervision.celery_worker`); off: each task imports them itself",
                                    shown="`true`")
    # --- databases -----------------------------------------------------------------------------
    external_warehouse_url: SecretStr | None = _setting(
        env="SUPERVISION_WAREHOUSE_URL", meaning="PostgreSQL (15 or later) URL of the warehouse (an owner)",
        shown="the embedded server's `warehouse` database")
    external_training_db_url: SecretStr | None = _setting(
        env="SUPERVISION_TRAINING_DB_URL", meaning="SQLAlchemy URL of the training platform database",
        shown="the embedded server's `training_platform` database (the simulator's)")
    external_airflow_db_url: SecretStr | None = _setting(
        env="SUPERVISION_AIRFLOW_DB_URL", meaning="PostgreSQL URL of Airflow's metadata database",
        shown="the embedded server's `airflow` database")
    # --- secrets -------------------------------------------------------------------------------
    pii_key_value: SecretStr | None = _setting(
        env="SUPERVISION_PII_KEY", meaning="secret key of the pseudonyms (HMAC-SHA256 of ID numbers); "
                                           "the same key forever", shown="made once, kept in `var/secrets.json`")
    bi_password: SecretStr | None = _setting(meaning="password of the BI login role `supervision_bi`",
                                             shown="made once, kept in `var/secrets.json`")
    loader_password: SecretStr | None = _setting(meaning="password of the loaders' role `supervision_loader`",
                                                 shown="made once, kept in `var/secrets.json`")
    app_password: SecretStr | None = _setting(meaning="password of the review application's role `supervision_app`",
                                              shown="made once, kept in `var/secrets.json`")
    reviewer_city_password: SecretStr | None = _setting(meaning="password of the city reviewer login `reviewer_city`",
                                                        shown="made once, kept in `var/secrets.json`")
    reviewer_passwords: dict[str, SecretStr] = _setting(
        {}, meaning="password of a district reviewer login `reviewer_<district>` (one variable per district)",
        shown="made once, kept in `var/secrets.json`", env="SUPERVISION_REVIEWER_<district>_PASSWORD")
    review_session_secret: SecretStr | None = _setting(meaning="key signing the review application's session "
                                                               "cookies", shown="made once, kept in `var/secrets.json`")
    new_password: SecretStr | None = _setting(meaning="password for `supervision users add/passwd` when "
                                                      "`--password` is not given", shown="asked for")
    # --- review application and notifications --------------------------------------------------
    review_https_only: bool = _setting(False, meaning="treat every request to the review application as HTTPS "
                                                      "(`Secure` cookies, HSTS); requests that arrive over HTTPS, "
                                                      "directly or from a trusted proxy, are treated so anyway",
                                       shown="`0`")
    review_trusted_proxies: str = _setting(
        "", meaning="comma-separated addresses or networks (`10.0.0.0/8`) of the reverse proxies in front of the "
                    "review application: only from these are `X-Forwarded-For` (the client's address, for the login "
                    "throttle) and `X-Forwarded-Proto` believed", shown="empty: no proxy is trusted")
    review_base_url: str | None = _setting(meaning="link prefix of the alert pages in notification emails, "
                                                   "e.g. `https://review.example`", shown="no links")
    smtp_host: str = _setting("127.0.0.1", meaning="SMTP server of the notifications", shown="`127.0.0.1`")
    smtp_port: int = _setting(25, meaning="its port", shown="`25`", ge=1, le=65535)
    smtp_sender: str = _setting("supervision@localhost", meaning="From: address of the notifications",
                                shown="`supervision@localhost`")
    district_emails: dict[str, str] = _setting(
        {}, meaning='JSON map of district code (or the city\'s `310000`) to the address notified of its new '
                    'high-severity alerts and sent its monthly supervision report, e.g. `{"310101": "a@b"}`', shown="`{}`: no notifications")
    engineer_emails: str = _setting(
        "", meaning="comma-separated addresses of the data engineers, mailed when a task or DAG run fails "
                    "and when a day's marts miss their deadline", shown="empty: failures are only logged")
    # --- production guards ---------------------------------------------------------------------
    marts_deadline_hour: int = _setting(
        8, meaning="local hour of day D+1 by which day D's marts run must be done (a Deadline Alert mails "
                   "the engineers otherwise)", shown="`8`", ge=1, le=23)
    warehouse_heavy_slots: int = _setting(
        2, meaning="slots of the Airflow pool `supervision_warehouse_heavy` (video loads and attaches, "
                   "GX gates and flags, dbt builds running at once)", shown="`2`", ge=1, le=64)
    # --- pipeline switches ---------------------------------------------------------------------
    video_native: bool = _setting(True, meaning="parse video logs with the native library when it is built "
                                                "(`0`: the Python parser)", shown="`1`")
    gx_flags_full: bool = _setting(False, meaning="re-check every record in the next record-flags run "
                                                  "(not only what changed)", shown="`0`")

    # --- construction --------------------------------------------------------------------------
    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as err:
            raise ConfigError(_explain(err)) from None
        except _SourceError as err:
            raise ConfigError(_explain_source(err)) from None

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _ReviewerPasswords(settings_cls)

    @classmethod
    def load(cls) -> Settings:
        return cls()

    @model_validator(mode="before")
    @classmethod
    def _default_folders(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if not data.get("home"):
                data["home"] = _find_home()
            if not data.get("var_dir"):
                data["var_dir"] = Path(data["home"]).expanduser() / "var"
        return data

    @field_validator("home", "var_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("landing_url")
    @classmethod
    def _local_folder(cls, value: str | None) -> str | None:
        if value and "://" in value.removeprefix("file://"):
            raise ValueError(f"{value!r}: only local folders (or file://) are supported")
        return value

    @field_validator("local_tz")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfoNotFoundError

        if not _TZ_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not an IANA time zone name")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known IANA time zone") from None
        return value

    @field_validator("external_warehouse_url", "external_airflow_db_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.match(r"postgres(ql)?(\+\w+)?://", value.get_secret_value()):
            raise ValueError("not a PostgreSQL URL (postgresql://user:password@host:port/database)")
        return value

    @field_validator("external_training_db_url")
    @classmethod
    def _any_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and "://" not in value.get_secret_value():
            raise ValueError("not a URL (dialect://user:password@host:port/database)")
        return value

    @field_validator("review_trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        import ipaddress

        for item in (i.strip() for i in value.split(",") if i.strip()):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("reviewer_passwords", "district_emails")
    @classmethod
    def _district_keys(cls, value: dict) -> dict:
        unknown = sorted(k for k in value if k not in DISTRICTS and k != CITY_CODE)
        if unknown:
            raise ValueError(f"not a district code (nor the city's {CITY_CODE}): {', '.join(unknown)}")
        return value

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
        if self.landing_url:
            return Path(self.landing_url.removeprefix("file://")).expanduser().resolve()
        return self.var_dir / "landing"

    # --- time ----------------------------------------------------------------------------------
    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.local_tz)

    def dbt_vars(self) -> dict[str, str]:
        """The dbt vars that come from settings (``--vars``), so dbt's calendar is this one."""
        return {"local_timezone": self.local_tz}

    # --- secrets -------------------------------------------------------------------------------
    @property
    def secrets_file(self) -> Path:
        return self.var_dir / "secrets.json"

    def secret(self, name: str, env: str | None = None) -> str:
        """A secret: the variable ``env`` when set, else ``name`` in var/secrets.json, made there on
        first use. A ``SUPERVISION_*`` ``env`` must be a setting; any other (e.g. Airflow's
        ``AIRFLOW__CORE__FERNET_KEY``) is read as is."""
        if env:
            value = self._env_secret(env)
            if value:
                return value
        return self._stored_secret(name)

    def role_password(self, role: str) -> str:
        """A database role's password: ``SUPERVISION_<ROLE>_PASSWORD`` (``supervision_bi`` -> ``BI``,
        ``reviewer_310101`` -> ``REVIEWER_310101``), else ``<role>_password`` in var/secrets.json. A role
        without such a setting has its password in the file only."""
        env = role_password_env(role)
        return self.secret(f"{role}_password", env if _is_setting(env) else None)

    @property
    def pii_key(self) -> bytes:
        return self.secret("pii_key", "SUPERVISION_PII_KEY").encode()

    def _env_secret(self, env: str) -> str | None:
        if not env.upper().startswith(ENV_PREFIX):
            return os.environ.get(env) or None
        m = _REVIEWER_ENV.fullmatch(env)
        if m and m.group(1) in DISTRICTS:
            found = self.reviewer_passwords.get(m.group(1))
            return found.get_secret_value() if found else None
        field = _ENV_FIELDS.get(env.upper())
        if field is None:
            raise KeyError(f"{env} is not a setting: declare it in supervision.config.Settings")
        value = getattr(self, field)
        return value.get_secret_value() if isinstance(value, SecretStr) else (str(value) if value else None)

    def _stored_secret(self, name: str) -> str:
        import fcntl

        self.var_dir.mkdir(parents=True, exist_ok=True)
        lock = self.var_dir / ".secrets.lock"
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # concurrent first uses (parallel tasks) make one secret, not two
            data = json.loads(self.secrets_file.read_text()) if self.secrets_file.exists() else {}
            if name not in data:
                data[name] = secrets.token_urlsafe(24)
                tmp = self.secrets_file.with_name(f".secrets.{os.getpid()}.tmp")
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                    f.write(json.dumps(data, indent=1))
                tmp.replace(self.secrets_file)
            return data[name]
        finally:
            os.close(fd)

    # --- URLs ----------------------------------------------------------------------------------
    @property
    def external_warehouse(self) -> bool:
        return self.external_warehouse_url is not None

    @property
    def external_airflow_db(self) -> bool:
        return self.external_airflow_db_url is not None

    @property
    def engineer_addresses(self) -> list[str]:
        return [a.strip() for a in self.engineer_emails.split(",") if a.strip()]

    @property
    def trusted_proxies(self) -> list[str]:
        return [a.strip() for a in self.review_trusted_proxies.split(",") if a.strip()]

    def warehouse_url(self) -> str:
        return _plain(self.external_warehouse_url) or self.embedded_url("warehouse")

    def training_db_url(self) -> str:
        return _plain(self.external_training_db_url) or self.embedded_url("training_platform")

    def airflow_db_url(self) -> str:
        return _plain(self.external_airflow_db_url) or self.embedded_url("airflow")

    @property
    def embedded_state_file(self) -> Path:
        return self.var_dir / EMBEDDED_STATE_FILE

    def embedded_port(self) -> int:
        """The embedded server's port, as it recorded it when it started."""
        state = json.loads(self.embedded_state_file.read_text()) if self.embedded_state_file.exists() else {}
        if "port" not in state:
            raise RuntimeError("the embedded warehouse was never started: run `supervision warehouse start`")
        return int(state["port"])

    def embedded_url(self, database: str = "warehouse") -> str:
        port = self.embedded_port()
        password = quote(self.secret(EMBEDDED_OWNER_SECRET), safe="")
        return f"postgresql://{EMBEDDED_OWNER}:{password}@{EMBEDDED_HOST}:{port}/{database}"


def _plain(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def field_env(name: str) -> str:
    """The variable a field of :class:`Settings` is read from."""
    field = Settings.model_fields[name]
    alias = field.validation_alias
    return alias if isinstance(alias, str) else ENV_PREFIX + name.upper()


_ENV_FIELDS = {field_env(name): name for name in Settings.model_fields}


def _is_setting(env: str) -> bool:
    m = _REVIEWER_ENV.fullmatch(env)
    return m.group(1) in DISTRICTS if m else env.upper() in _ENV_FIELDS


def role_password_env(role: str) -> str:
    """The variable holding a role's password: ``supervision_bi`` -> ``SUPERVISION_BI_PASSWORD``."""
    return f"{ENV_PREFIX}{role.removeprefix('supervision_').upper()}_PASSWORD"


def _explain(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = e["loc"][0] if e["loc"] else ""
        name = _ENV_FIELDS.get(str(loc).upper()) or str(loc)
        env = field_env(name) if name in Settings.model_fields else str(loc)
        shown = "" if "password" in env.lower() or "secret" in env.lower() or "key" in env.lower() \
            or env.endswith("_URL") else f" (got {e.get('input')!r})"
        lines.append(f"{env}: {e['msg'].removeprefix('Value error, ')}{shown}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def _explain_source(err: _SourceError) -> str:
    m = re.search(r'field "(\w+)"', str(err))
    env = field_env(m.group(1)) if m and m.group(1) in Settings.model_fields else "a SUPERVISION_* variable"
    return f"invalid settings:\n  {env}: not valid JSON ({err.__cause__ or err})"


def settings() -> Settings:
    """The settings of this process as the environment is now (one object while it does not change)."""
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)))
    return _settings_for(env, os.getcwd())


@lru_cache(maxsize=8)
def _settings_for(env: tuple[tuple[str, str], ...], cwd: str) -> Settings:
    del env, cwd  # the cache key: Settings() reads them
    return Settings()


def configuration_table() -> str:
    """The README's table of every variable: name, meaning, default."""
    rows = ["| variable | meaning | default |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        rows.append(f"| `{field_env(name)}` | {field.description} | {extra.get('shown_default', '')} |")
    return "\n".join(rows)


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


if __name__ == "__main__":
    print(configuration_table())
