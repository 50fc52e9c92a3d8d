"""The settings object: defaults, environment overrides, the secrets file, clear errors, and the rule
that no module but supervision.config reads a SUPERVISION_* variable."""
from __future__ import annotations

import ast
import json
import os
import re
import stat
from pathlib import Path

import pytest

from supervision.config import (
    LOCAL_TZ,
    ConfigError,
    Settings,
    configuration_table,
    field_env,
    role_password_env,
    settings,
)
from tests.conftest import REPO

PACKAGE = REPO / "plugins" / "supervision"


@pytest.fixture
def clean_env(monkeypatch, tmp_path) -> Path:
    """No SUPERVISION_* variable but a scratch SUPERVISION_VAR_DIR; returns that folder."""
    for name in list(os.environ):
        if name.upper().startswith("SUPERVISION_"):
            monkeypatch.delenv(name)
    var = tmp_path / "var"
    monkeypatch.setenv("SUPERVISION_VAR_DIR", str(var))
    return var


def test_defaults(clean_env, monkeypatch):
    monkeypatch.delenv("SUPERVISION_VAR_DIR")
    s = Settings()
    assert s.home == REPO.resolve() and s.var_dir == REPO.resolve() / "var"
    assert s.landing == s.var_dir / "landing" and s.gx_dir == s.var_dir / "gx"
    assert s.dbt_project_dir == REPO.resolve() / "dbt_project"
    assert s.local_tz == LOCAL_TZ == "Asia/Shanghai" and s.dbt_vars() == {"local_timezone": LOCAL_TZ}
    assert not s.external_warehouse and not s.external_airflow_db
    assert (s.smtp_host, s.smtp_port, s.smtp_sender) == ("127.0.0.1", 25, "supervision@localhost")
    assert s.district_emails == {} and s.reviewer_passwords == {} and s.review_base_url is None
    assert s.video_native is True and s.gx_flags_full is False and s.review_https_only is False


def test_explicit_folders_win_and_derive_the_rest(clean_env, tmp_path):
    s = Settings(home=REPO, var_dir=tmp_path / "elsewhere")
    assert s.var_dir == (tmp_path / "elsewhere").resolve() and s.landing == s.var_dir / "landing"
    assert Settings(home=tmp_path).var_dir == clean_env.resolve(), "SUPERVISION_VAR_DIR still applies"


def test_environment_overrides(clean_env, monkeypatch, tmp_path):
    env = {
        "SUPERVISION_WAREHOUSE_URL": "postgresql://o:pw@db:5432/warehouse",
        "SUPERVISION_TRAINING_DB_URL": "postgresql+psycopg://r:pw@src:5432/platform",
        "SUPERVISION_AIRFLOW_DB_URL": "postgresql://a:pw@af:5432/airflow",
        "SUPERVISION_LANDING_URL": f"file://{tmp_path}/landing",
        "SUPERVISION_LOCAL_TZ": "Europe/Paris",
        "SUPERVISION_PII_KEY": "k" * 12,
        "SUPERVISION_SMTP_PORT": "2525",
        "SUPERVISION_DISTRICT_EMAILS": json.dumps({"310101": "hp@example.test", "310000": "city@example.test"}),
        "SUPERVISION_REVIEW_HTTPS_ONLY": "1",
        "SUPERVISION_VIDEO_NATIVE": "0",
        "SUPERVISION_GX_FLAGS_FULL": "true",
        "SUPERVISION_BI_PASSWORD": "bi-pw",
        "SUPERVISION_REVIEWER_CITY_PASSWORD": "city-pw",
        "SUPERVISION_REVIEWER_310104_PASSWORD": "xuhui-pw",
        "SUPERVISION_REVIEW_SESSION_SECRET": "s" * 32,
        "SUPERVISION_SMTP_HOST": "",  # empty: as if unset
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s = settings()
    assert s.external_warehouse and s.external_airflow_db
    assert s.warehouse_url() == env["SUPERVISION_WAREHOUSE_URL"]
    assert s.training_db_url() == env["SUPERVISION_TRAINING_DB_URL"]
    assert s.airflow_db_url() == env["SUPERVISION_AIRFLOW_DB_URL"]
    assert s.landing == (tmp_path / "landing").resolve()
    assert s.local_tz == "Europe/Paris" and s.dbt_vars() == {"local_timezone": "Europe/Paris"}
    assert s.pii_key == b"k" * 12
    assert s.smtp_port == 2525 and s.smtp_host == "127.0.0.1"
    assert s.district_emails == {"310101": "hp@example.test", "310000": "city@example.test"}
    assert s.review_https_only and not s.video_native and s.gx_flags_full
    assert s.role_password("supervision_bi") == "bi-pw"
    assert s.role_password("reviewer_city") == "city-pw"
    assert s.role_password("reviewer_310104") == "xuhui-pw"
    assert s.secret("review_session_secret", "SUPERVISION_REVIEW_SESSION_SECRET") == "s" * 32
    assert "pw@" not in repr(s) and "bi-pw" not in repr(s), "URLs and passwords stay out of reprs"
    assert not (clean_env / "secrets.json").exists(), "nothing made when everything is set"
    monkeypatch.setenv("SUPERVISION_SMTP_PORT", "26")
    assert settings().smtp_port == 26, "settings() follows the environment"


def test_secrets_file_is_made_once_with_mode_0600(clean_env):
    s = settings()
    key = s.pii_key
    pw = s.role_password("supervision_loader")
    path = clean_env / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["pii_key"] == key.decode() and stored["supervision_loader_password"] == pw
    again = Settings()
    assert again.pii_key == key and again.role_password("supervision_loader") == pw
    assert json.loads(path.read_text()) == stored, "reading does not rewrite"
    assert again.secret("another") != pw and len(json.loads(path.read_text())) == 3
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(clean_env.glob("*.tmp"))


def test_secret_of_a_variable_that_is_not_a_setting_is_refused(clean_env):
    with pytest.raises(KeyError, match="SUPERVISION_NO_SUCH_THING is not a setting"):
        settings().secret("x", "SUPERVISION_NO_SUCH_THING")
    # a role without a password setting: the file only
    assert settings().role_password("supervision_read_city") == settings().secret("supervision_read_city_password")


def test_role_password_env_names():
    assert role_password_env("supervision_bi") == "SUPERVISION_BI_PASSWORD"
    assert role_password_env("supervision_app") == "SUPERVISION_APP_PASSWORD"
    assert role_password_env("reviewer_310101") == "SUPERVISION_REVIEWER_310101_PASSWORD"


def test_embedded_urls_come_from_the_state_file(clean_env):
    s = settings()
    with pytest.raises(RuntimeError, match="never started"):
        s.warehouse_url()
    clean_env.mkdir(parents=True, exist_ok=True)
    (clean_env / "warehouse.json").write_text(json.dumps({"port": 54999}))
    url = s.training_db_url()
    assert url.startswith("postgresql://postgres:") and url.endswith("@127.0.0.1:54999/training_platform")


@pytest.mark.parametrize("name, value, message", [
    ("SUPERVISION_SMTP_PORT", "twenty-five", "SUPERVISION_SMTP_PORT: Input should be a valid integer"),
    ("SUPERVISION_SMTP_PORT", "70000", "SUPERVISION_SMTP_PORT: Input should be less than or equal to 65535"),
    ("SUPERVISION_DISTRICT_EMAILS", "{310101: a@b}", "SUPERVISION_DISTRICT_EMAILS: not valid JSON"),
    ("SUPERVISION_DISTRICT_EMAILS", '{"999999": "a@b"}', "SUPERVISION_DISTRICT_EMAILS: not a district code"),
    ("SUPERVISION_LOCAL_TZ", "Asia/Atlantis", "SUPERVISION_LOCAL_TZ: 'Asia/Atlantis' is not a known IANA"),
    ("SUPERVISION_LOCAL_TZ", "UTC'; drop table x; --", "SUPERVISION_LOCAL_TZ: .* is not an IANA time zone name"),
    ("SUPERVISION_WAREHOUSE_URL", "mysql://u:p@h/db", "SUPERVISION_WAREHOUSE_URL: not a PostgreSQL URL"),
    ("SUPERVISION_LANDING_URL", "s3://bucket/landing", "SUPERVISION_LANDING_URL: .*only local folders"),
    ("SUPERVISION_VIDEO_NATIVE", "perhaps", "SUPERVISION_VIDEO_NATIVE: Input should be a valid boolean"),
    ("SUPERVISION_REVIEWER_999999_PASSWORD", "pw", "SUPERVISION_REVIEWER_<district>_PASSWORD: not a district"),
])
def test_a_bad_value_names_the_variable(clean_env, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as err:
        settings()
    if name in ("SUPERVISION_WAREHOUSE_URL", "SUPERVISION_REVIEWER_999999_PASSWORD"):
        assert value not in str(err.value), "secrets are not echoed"


def test_readme_table_is_the_settings_table():
    """Every field is in the README's configuration table, which is the generated one."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for name in Settings.model_fields:
        assert f"| `{field_env(name)}` |" in section, f"{field_env(name)} missing from the README table"
    assert configuration_table() in section, "README table out of date: paste `python -m supervision.config`"


# --- structure: supervision.config is the only reader of SUPERVISION_* variables ----------------

def _environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, key) of every os.environ / os.getenv read whose key is a SUPERVISION_* name: a literal,
    an f-string starting with one, or a module constant holding one."""
    constants = {t.id: n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                 and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
                 for t in n.targets if isinstance(t, ast.Name)}

    def name_of(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            return str(node.values[0].value)
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        return None

    def is_environ(node: ast.AST) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "environ") or \
            (isinstance(node, ast.Name) and node.id == "environ")

    found = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args:
            f = node.func
            if isinstance(f, ast.Attribute) and (
                    (f.attr in ("get", "pop", "setdefault") and is_environ(f.value)) or f.attr == "getenv"):
                key = name_of(node.args[0])
            elif isinstance(f, ast.Name) and f.id == "getenv":
                key = name_of(node.args[0])
        elif isinstance(node, ast.Subscript) and is_environ(node.value) and isinstance(node.ctx, ast.Load):
            key = name_of(node.slice)
        elif isinstance(node, ast.Compare) and any(is_environ(c) for c in node.comparators):
            key = name_of(node.left)
        if key and key.upper().startswith("SUPERVISION_"):
            found.append((node.lineno, key))
    return sorted(found)


def test_the_structure_check_sees_the_usual_spellings():
    src = ('import os\nFULL = "SUPERVISION_X"\nos.environ.get("SUPERVISION_A")\nos.getenv(FULL)\n'
           'os.environ["SUPERVISION_B"]\nif "SUPERVISION_C" in os.environ: pass\nos.environ.get(f"SUPERVISION_{1}")\n'
           'os.environ["SUPERVISION_D"] = "written"\nos.environ.get("PATH")\n')
    assert [k for _, k in _environment_reads(ast.parse(src))] == [
        "SUPERVISION_A", "SUPERVISION_X", "SUPERVISION_B", "SUPERVISION_C", "SUPERVISION_"]
    assert not _environment_reads(ast.parse('import os\nos.environ.update({"SUPERVISION_E": "1"})\n'))


def test_no_module_but_config_reads_supervision_variables():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "config.py" and path.parent == PACKAGE or "target" in path.parts:
            continue
        for line, key in _environment_reads(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(REPO)}:{line}: {key}")
    for path in sorted((REPO / "dags").glob("*.py")) + sorted((REPO / "expectations").glob("*.py")):
        for line, key in _environment_reads(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(REPO)}:{line}: {key}")
    assert not offenders, "read SUPERVISION_* through supervision.config.settings():\n" + "\n".join(offenders)


def test_config_does_not_import_the_server():
    tree = ast.parse((PACKAGE / "config.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
        {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and re.match(r"supervision\.", m)}


def test_dbt_gets_the_time_zone_as_a_var_merged_with_the_callers(clean_env, monkeypatch):
    from supervision.dbt_runner import _with_vars

    monkeypatch.setenv("SUPERVISION_LOCAL_TZ", "Asia/Tokyo")
    args = _with_vars(["test", "--vars", "{data_tests_scope: all}", "--select", "x"], {"run_date": "2024-03-01"})
    assert args[:3] == ["test", "--select", "x"] and args[3] == "--vars"
    assert json.loads(args[4]) == {"local_timezone": "Asia/Tokyo", "data_tests_scope": "all", "run_date": "2024-03-01"}
    assert json.loads(_with_vars(["parse"], None)[-1]) == {"local_timezone": "Asia/Tokyo"}


def test_flag_suites_render_the_time_zone_as_a_literal(clean_env, monkeypatch):
    from supervision.quality.flags import render_flag_suites
    from supervision.quality.thresholds import RULE_DEFAULTS

    monkeypatch.setenv("SUPERVISION_LOCAL_TZ", "Asia/Tokyo")
    suites = render_flag_suites(dict(RULE_DEFAULTS))
    text = "\n".join(s.asset_sql for s in suites)
    assert "at time zone 'Asia/Tokyo'" in text and "Asia/Shanghai" not in text and "{{" not in text
    assert {s.local_tz for s in suites} == {"Asia/Tokyo"}
