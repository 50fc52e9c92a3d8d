"""The deployment files (docker/), checked as far as a machine without a Docker engine can.

What runs here: YAML parsing, the compose services' shape (image/build, health checks, two Celery
workers, no literal secrets), every `supervision ...` and `airflow ...` command against the real CLI
parsers, every AIRFLOW__* variable against Airflow's configuration reference, the Dockerfile's
instructions and the files it copies, the entrypoint script, and the Helm values against the keys of
the official chart. What does not run here: building the image, starting the containers, the chart's
templates (no docker, no helm, no cluster). See docs/DEPLOYMENT.md.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
COMPOSE = DOCKER / "docker-compose.yml"
HELM_VALUES = DOCKER / "helm" / "values.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
ENV_EXAMPLE = DOCKER / ".env.example"
ENTRYPOINT = DOCKER / "entrypoint.sh"

REQUIRED_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                     "redis", "airflow-db", "warehouse", "review", "airflow-init"}
SECRET_KEY = re.compile(r"(PASSWORD|SECRET|_KEY$|TOKEN|FERNET)", re.I)
# user:password@ in a URL whose password is not a ${...} substitution
URL_PASSWORD = re.compile(r"://[^:/@\s]*:(?!\$\{)[^@\s]+@")


def lock_packages() -> dict[str, set[str]]:
    """Package name -> locked versions, from uv.lock (tomllib is not in Python 3.10)."""
    out: dict[str, set[str]] = {}
    text = (REPO / "uv.lock").read_text()
    for name, version in re.findall(r'^\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"', text, re.M):
        out.setdefault(name, set()).add(version)
    return out


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def services() -> dict:
    return compose()["services"]


def _argvs(command) -> list[list[str]]:
    """The program invocations in a compose command or healthcheck (``bash -c`` / ``sh -c`` strings split)."""
    if isinstance(command, str):
        command = shlex.split(command)
    if command and command[0] in ("CMD", "CMD-SHELL"):
        command = command[1:] if command[0] == "CMD" else ["sh", "-c", " ".join(command[1:])]
    if len(command) >= 3 and command[0] in ("bash", "sh") and command[1] == "-c":
        out = []
        for part in re.split(r"&&|\|\||;|\|", command[2]):
            words = shlex.split(part.replace("$$", "$"))
            words = [w for w in words if not re.match(r"^[A-Z_]+=", w)] if words else words
            if words:
                out.append(words)
        return out
    return [list(command)]


def all_invocations() -> list[tuple[str, list[str]]]:
    found = []
    for name, svc in services().items():
        for source in (svc.get("command"), (svc.get("healthcheck") or {}).get("test")):
            if source:
                found += [(name, argv) for argv in _argvs(source)]
    return found


def _uncommented(text: str) -> str:
    """YAML/shell text without its comments (a # at line start or after whitespace)."""
    return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())


def _env_vars(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z0-9_]+)", _uncommented(text)))


# --- compose -----------------------------------------------------------------------------------

def test_compose_has_every_service_with_an_image_and_a_health_check():
    svcs = services()
    assert REQUIRED_SERVICES <= set(svcs), REQUIRED_SERVICES - set(svcs)
    workers = [n for n, s in svcs.items() if _argvs(s.get("command", []))[:1] == [["airflow", "celery", "worker"]]]
    assert len(workers) >= 2, workers
    for name, svc in svcs.items():
        assert svc.get("image") or svc.get("build"), f"{name}: no image or build"
        test = (svc.get("healthcheck") or {}).get("test")
        assert test and test != ["NONE"] and not (svc["healthcheck"].get("disable")), f"{name}: no health check"
    platform = [n for n, s in svcs.items() if "supervision-platform" in str(s.get("image"))]
    assert set(platform) >= REQUIRED_SERVICES - {"redis", "airflow-db", "warehouse"}
    for name in platform:
        assert svcs[name]["build"]["dockerfile"] == "docker/Dockerfile"
        assert (COMPOSE.parent / svcs[name]["build"]["context"] / "docker" / "Dockerfile").is_file()
    # the init service migrates Airflow and syncs the roles; it does not start an embedded warehouse
    init = " ".join(" ".join(a) for a in _argvs(svcs["airflow-init"]["command"]))
    assert "airflow db migrate" in init and "supervision roles" in init
    assert "warehouse start" not in init
    env = svcs["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "@warehouse:5432/warehouse" in env["SUPERVISION_WAREHOUSE_URL"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    for key in ("AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__API_AUTH__JWT_SECRET",
                "SUPERVISION_AIRFLOW_DB_URL", "SUPERVISION_PII_KEY"):
        assert env.get(key), key
    # the landing folder is a volume every worker mounts
    for name in workers:
        assert any(str(v).endswith(":/opt/supervision/landing") for v in svcs[name]["volumes"]), name
    assert "landing" in compose()["volumes"]


def test_no_secret_is_written_in_the_deployment_files():
    problems = []
    for path in (COMPOSE, HELM_VALUES, DOCKERFILE, ENTRYPOINT):
        for n, line in enumerate(_uncommented(path.read_text()).splitlines(), 1):
            if URL_PASSWORD.search(line):
                problems.append(f"{path.name}:{n}: password in a URL: {line.strip()}")
            m = re.match(r"\s*-?\s*([A-Za-z0-9_]+)\s*[:=]\s*(.+)$", line)
            if m and SECRET_KEY.search(m.group(1)) and not m.group(1).lower().endswith(("secretname", "_file")):
                value = m.group(2).strip().strip("'\"")
                if value and not value.startswith("${") and value not in ("~", "null", "{}"):
                    problems.append(f"{path.name}:{n}: literal value for {m.group(1)}")
    assert not problems, "\n".join(problems)
    # every secret compose needs must be given: ${VAR:?...}, never a default
    text = _uncommented(COMPOSE.read_text())
    for var in _env_vars(text):
        if SECRET_KEY.search(var):
            assert re.search(r"\$\{" + var + r":\?", text) and not re.search(r"\$\{" + var + r":-", text), var


def test_env_example_lists_every_variable_with_placeholders_only():
    example = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            example[key.strip()] = value.strip()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", _uncommented(COMPOSE.read_text())))
    assert required <= set(example), required - set(example)
    for key, value in example.items():
        if SECRET_KEY.search(key):
            assert value.startswith("change-me"), f"{key}: not a placeholder"
        if "://" in value:
            assert re.search(r":change-me[^@]*@", value), f"{key}: URL without a placeholder password"
    tracked = subprocess.run(["git", "ls-files", "docker"], cwd=REPO, capture_output=True, text=True).stdout.split()
    assert "docker/.env" not in tracked


def test_every_supervision_command_exists_in_the_cli(capsys):
    from supervision.cli import build_parser

    checked = 0
    for name, argv in all_invocations():
        if argv[0] != "supervision":
            continue
        try:
            build_parser().parse_args(argv[1:])
        except SystemExit:
            pytest.fail(f"{name}: `{' '.join(argv)}` is not a valid supervision command:\n{capsys.readouterr().err}")
        checked += 1
    assert checked >= 2


def _parse_with_airflow(argvs: list[list[str]], tmp_path) -> list[str | None]:
    """Parse each argv with Airflow's own CLI parser (CeleryExecutor configured, so its commands load)."""
    code = """
import contextlib, io, json, sys
from airflow.cli.cli_parser import get_parser
p = get_parser()
out = []
for argv in json.load(sys.stdin):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            p.parse_args(argv)
        out.append(None)
    except SystemExit as e:
        out.append(err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else f"exit {e.code}")
print(json.dumps(out))
"""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db"}
    res = subprocess.run([sys.executable, "-c", code], input=json.dumps(argvs), capture_output=True, text=True,
                         env=env, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _celery_provider_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("airflow.providers.celery") is not None
    except ModuleNotFoundError:
        return False


def test_every_airflow_command_exists_in_airflow(tmp_path):
    invocations = [(n, a) for n, a in all_invocations() if a[0] == "airflow"]
    invocations += [("helm", ["airflow", "api-server"]), ("helm", ["airflow", "dag-processor"])]
    names = {a[1] for _, a in invocations}
    assert {"api-server", "scheduler", "dag-processor", "triggerer", "celery", "db", "jobs"} <= names
    errors = _parse_with_airflow([a[1:] for _, a in invocations], tmp_path)
    bad = [f"{n}: `{' '.join(a)}`: {e}" for (n, a), e in zip(invocations, errors, strict=True) if e]
    celery_only = all(a[1] == "celery" for (n, a), e in zip(invocations, errors, strict=True) if e)
    if bad and celery_only and not _celery_provider_installed():
        pytest.skip("`airflow celery ...` not checkable: apache-airflow-providers-celery is not installed "
                    "(see test_lock_has_the_celery_provider); every other airflow command parsed")
    assert not bad, "\n".join(bad)


def test_lock_has_the_celery_provider():
    """The CeleryExecutor (`airflow celery worker`) lives in apache-airflow-providers-celery: the image
    installs exactly uv.lock, so the lock must hold it (with its redis client)."""
    names = set(lock_packages())
    assert "apache-airflow" in names
    missing = {"apache-airflow-providers-celery", "celery", "redis"} - names
    assert not missing, (f"uv.lock lacks {sorted(missing)}: add \"apache-airflow-providers-celery\" to "
                         "[project] dependencies in pyproject.toml and run `uv lock`")


def test_worker_health_check_uses_the_providers_celery_app():
    checks = [a for n, a in all_invocations() if a[0] == "celery"]
    assert checks
    for argv in checks:
        app = argv[argv.index("--app") + 1]
        assert app == "airflow.providers.celery.executors.celery_executor.app"
        if _celery_provider_installed():
            import importlib.util

            assert importlib.util.find_spec(app.rsplit(".", 1)[0]) is not None


def _known_airflow_options() -> set[tuple[str, str]]:
    import airflow.config_templates as templates

    folder = Path(templates.__file__).parent
    known = set()
    for section, body in yaml.safe_load((folder / "config.yml").read_text()).items():
        known |= {(section, key) for key in (body.get("options") or {})}
    import configparser

    fallback = configparser.ConfigParser()
    fallback.read(folder / "provider_config_fallback_defaults.cfg")
    known |= {(s, k) for s in fallback.sections() for k in fallback[s]}
    known |= {("cosmos", "enable_telemetry"), ("cosmos", "cache_dir")}  # astronomer-cosmos' own section
    return known


def test_every_airflow_setting_is_a_known_option():
    known = _known_airflow_options()
    unknown = []
    for name, svc in services().items():
        for var in (svc.get("environment") or {}):
            m = re.match(r"AIRFLOW__([A-Z_]+?)__([A-Z0-9_]+)$", var)
            if m and (m.group(1).lower(), m.group(2).lower()) not in known:
                unknown.append(f"{name}: {var}")
    for section, options in (yaml.safe_load(HELM_VALUES.read_text()).get("config") or {}).items():
        unknown += [f"helm config.{section}.{k}" for k in options if (section, k) not in known]
    assert not unknown, unknown


# --- Dockerfile and entrypoint -------------------------------------------------------------------

DOCKERFILE_INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
                           "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    out, buf = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        buf += line.rstrip("\\").rstrip() + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            word, _, rest = buf.strip().partition(" ")
            out.append((word, rest.strip()))
            buf = ""
    assert not buf, "Dockerfile ends inside a continued line"
    return out


def test_dockerfile_parses_and_builds_from_the_lock():
    steps = dockerfile_instructions()
    assert all(w in DOCKERFILE_INSTRUCTIONS for w, _ in steps), [w for w, _ in steps if w not in DOCKERFILE_INSTRUCTIONS]
    assert [r for w, r in steps if w == "FROM"][-1] == "python:3.11-slim-bookworm"  # the runtime stage
    runs = " ".join(r for w, r in steps if w == "RUN")
    assert "uv sync --frozen" in runs and "--no-dev" in runs
    assert re.search(r'pip install [^&]*"uv==', runs)
    assert "UV_COMPILE_BYTECODE=1" in DOCKERFILE.read_text()
    assert "supervision.dbt_runner import build_manifest" in runs
    users = [r for w, r in steps if w == "USER"]
    assert users and not users[-1].startswith(("root", "0")), "the image must not run as root"
    entry = json.loads(next(r for w, r in steps if w == "ENTRYPOINT"))
    assert entry[-1] == "/opt/supervision/docker/entrypoint.sh"
    # every COPY source exists in the build context (the repository root)
    for w, rest in steps:
        if w == "COPY" and "--from=" not in rest:  # (a COPY --from takes a build stage's files)
            *sources, _dest = [s for s in rest.split() if not s.startswith("--")]
            for s in sources:
                assert s == "." or (REPO / s).exists(), f"COPY {s}: not in the repository"
    for path in ("docker/entrypoint.sh", "docker/healthcheck.py", "pyproject.toml", "uv.lock", "dags", "dbt_project"):
        assert (REPO / path).exists(), path
    # the uv in the image is the one the Makefile bootstraps
    makefile = (REPO / "Makefile").read_text() if (REPO / "Makefile").exists() else ""
    m = re.search(r"UV_VERSION := (\S+)", makefile)
    if m:
        assert f"ARG UV_VERSION={m.group(1)}" in DOCKERFILE.read_text()


def test_the_dbt_manifest_builder_the_image_calls_exists():
    from supervision import dbt_runner

    assert callable(getattr(dbt_runner, "build_manifest", None))


def test_build_context_keeps_local_state_and_secrets_out():
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    for entry in ("var", ".venv", ".git", "**/secrets.json", "docker/.env"):
        assert entry in ignore, entry


def test_entrypoint_refuses_to_start_without_shared_configuration(tmp_path):
    assert subprocess.run(["bash", "-n", str(ENTRYPOINT)]).returncode == 0
    assert os.access(ENTRYPOINT, os.X_OK)
    base = {"PATH": os.environ["PATH"], "SUPERVISION_VAR_DIR": str(tmp_path / "var"),
            "AIRFLOW_HOME": str(tmp_path / "af")}
    res = subprocess.run(["bash", str(ENTRYPOINT), "true"], env=base, capture_output=True, text=True)
    assert res.returncode == 64 and "SUPERVISION_PII_KEY" in res.stderr
    env = {**base, "SUPERVISION_WAREHOUSE_URL": "postgresql://u:p@warehouse:5432/warehouse",
           "SUPERVISION_AIRFLOW_DB_URL": "postgresql://a:b@airflow-db:5432/airflow", "SUPERVISION_PII_KEY": "k",
           "SUPERVISION_TRAINING_DB_URL": "postgresql://u:p@src:5432/training_platform"}
    res = subprocess.run(["bash", str(ENTRYPOINT), "bash", "-c",
                          "echo $AIRFLOW_CONN_SUPERVISION_WAREHOUSE $AIRFLOW_CONN_SUPERVISION_TRAINING_DB"],
                         env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["postgres://u:p@warehouse:5432/warehouse", "postgres://u:p@src:5432/training_platform"]


# --- Helm ------------------------------------------------------------------------------------------

# Keys of the official chart's values (apache/airflow chart/values.yaml and values.schema.json at commit
# 002e5532d7d55a375bbf71bd4e72d7e008635073, chart 1.18 for Airflow 3.0.x): None = free-form below.
HELM_KEYS: dict = {
    "defaultAirflowRepository": None, "defaultAirflowTag": None, "airflowVersion": None, "uid": None,
    "gid": None, "airflowHome": None, "executor": None, "env": None, "extraEnv": None, "extraEnvFrom": None,
    "secret": None, "extraSecrets": None, "extraConfigMaps": None, "fernetKey": None,
    "fernetKeySecretName": None, "apiSecretKey": None, "apiSecretKeySecretName": None, "jwtSecret": None,
    "jwtSecretName": None, "webserverSecretKeySecretName": None, "config": None, "nodeSelector": None,
    "affinity": None, "tolerations": None, "labels": None, "securityContexts": None,
    "images": {"airflow": {"repository": None, "tag": None, "digest": None, "pullPolicy": None},
               "useDefaultImageForMigration": None, "migrationsWaitTimeout": None},
    "data": {"metadataSecretName": None, "resultBackendSecretName": None, "brokerUrlSecretName": None,
             "metadataConnection": None, "resultBackendConnection": None, "brokerUrl": None},
    "postgresql": {"enabled": None, "auth": None},
    "redis": {"enabled": None, "passwordSecretName": None, "password": None, "persistence": None,
              "resources": None},
    "workers": {"replicas": None, "resources": None, "extraVolumes": None, "extraVolumeMounts": None,
                "persistence": None, "env": None, "keda": None, "hpa": None, "args": None, "command": None},
    "scheduler": {"replicas": None, "resources": None, "env": None, "args": None, "command": None},
    "apiServer": {"replicas": None, "resources": None, "env": None, "args": None, "command": None},
    "triggerer": {"replicas": None, "resources": None, "env": None, "enabled": None},
    "dagProcessor": {"enabled": None, "replicas": None, "resources": None, "env": None},
    "webserver": {"defaultUser": {"enabled": None}, "enabled": None},
    "createUserJob": None, "migrateDatabaseJob": {"enabled": None, "useHelmHooks": None},
    "dags": {"mountPath": None, "persistence": {"enabled": None, "existingClaim": None},
             "gitSync": {"enabled": None}},
    "statsd": {"enabled": None}, "pgbouncer": {"enabled": None}, "flower": {"enabled": None},
    "ingress": None, "ports": None,
}


def _unknown_keys(values: dict, known: dict, prefix: str = "") -> list[str]:
    bad = []
    for key, value in values.items():
        if key not in known:
            bad.append(prefix + key)
        elif isinstance(known[key], dict) and isinstance(value, dict):
            bad += _unknown_keys(value, known[key], f"{prefix}{key}.")
    return bad


def test_helm_values_use_only_keys_of_the_official_chart():
    values = yaml.safe_load(HELM_VALUES.read_text())
    assert _unknown_keys(values, HELM_KEYS) == []
    assert values["executor"] == "CeleryExecutor"
    assert values["workers"]["replicas"] == 2
    assert values["images"]["airflow"]["repository"] == values["defaultAirflowRepository"]
    assert values["dags"]["gitSync"]["enabled"] is False and values["dags"]["persistence"]["enabled"] is False
    assert "secretRef" in values["extraEnvFrom"]
    assert yaml.safe_load(values["extraEnvFrom"])[0]["secretRef"]["name"]
    assert values["postgresql"]["enabled"] is False  # the metadata DB is external, its URL in a Secret
    assert values["airflowVersion"] in lock_packages()["apache-airflow"]
