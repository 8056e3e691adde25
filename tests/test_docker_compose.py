"""docker-compose.yml describes the production topology; these checks keep it in step with the code.

Docker is not needed: the file is parsed, not run.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from services.api.app import create_app
from services.settings import REQUIRED_ENV, Settings

ROOT = Path(__file__).resolve().parent.parent

COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_SERVICES = ("migrate", "api", "worker")
SECRETS = ("JWT_SECRET", "PAYLOAD_ENCRYPTION_KEY", "DEPARTMENT_SECRET_KEY", "SMS_GATEWAY_SECRET", "WECHAT_APP_SECRET")
REQUIRED_VAR = re.compile(r"^\$\{(?P<name>[A-Z_][A-Z0-9_]*):\?[^}]+\}$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _env(service: dict) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or as a KEY=VALUE list."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {str(key): None if value is None else str(value) for key, value in env.items()}


def _depends_on(service: dict) -> dict[str, dict]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return deps


def test_all_six_services_are_defined(compose: dict) -> None:
    assert set(compose["services"]) >= {"postgres", "temporal", "temporal-ui", "migrate", "api", "worker"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_containers_set_every_required_variable(compose: dict, name: str) -> None:
    env = _env(compose["services"][name])
    missing = [var for var in REQUIRED_ENV if not env.get(var)]
    assert not missing, f"{name} does not set {missing}"


def test_app_env_names_are_settings_fields(compose: dict) -> None:
    fields = {field.upper() for field in Settings.model_fields}
    app_env = compose["x-app-env"]
    unknown = sorted(set(app_env) - fields)
    assert not unknown, f"not fields of Settings (typo?): {unknown}"
    for name in APP_SERVICES:
        assert _env(compose["services"][name]) == _env({"environment": app_env}), f"{name} does not use x-app-env"


@pytest.mark.parametrize("secret", SECRETS)
def test_secrets_come_from_the_host_environment(compose: dict, secret: str) -> None:
    for name in APP_SERVICES:
        value = _env(compose["services"][name])[secret]
        match = REQUIRED_VAR.match(value)
        assert match, f"{name}: {secret} must be ${{{secret}:?...}}, not a literal value"
        assert match["name"] == secret


def test_database_url_uses_asyncpg_and_the_postgres_service(compose: dict) -> None:
    url = urlsplit(compose["x-app-env"]["DATABASE_URL"])
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres"
    assert url.path.lstrip("/") == compose["services"]["postgres"]["environment"]["POSTGRES_DB"]
    assert url.username == compose["services"]["postgres"]["environment"]["POSTGRES_USER"]


def test_temporal_persists_to_the_postgres_service(compose: dict) -> None:
    temporal = _env(compose["services"]["temporal"])
    postgres = _env(compose["services"]["postgres"])
    assert temporal["DB"] == "postgres12"
    assert temporal["POSTGRES_SEEDS"] == "postgres"
    assert temporal["DB_PORT"] == "5432"
    assert temporal["POSTGRES_USER"] == postgres["POSTGRES_USER"]
    assert temporal["POSTGRES_PWD"] == postgres["POSTGRES_PASSWORD"]
    assert _depends_on(compose["services"]["temporal"])["postgres"]["condition"] == "service_healthy"
    assert _env(compose["services"]["temporal-ui"])["TEMPORAL_ADDRESS"] == "temporal:7233"


@pytest.mark.parametrize("name", ["api", "worker"])
def test_api_and_worker_wait_for_migrations(compose: dict, name: str) -> None:
    deps = _depends_on(compose["services"][name])
    assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert "temporal" in deps


def test_migrate_is_a_one_shot_job(compose: dict) -> None:
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["alembic", "upgrade", "head"]
    assert migrate["restart"] == "no"
    assert _depends_on(migrate)["postgres"]["condition"] == "service_healthy"


# -- operations: health, restarts, replicas, the balancer ----------------------------------

ONE_SHOT = {"migrate"}  # a job: its health is its exit status (service_completed_successfully)
LB_CONFIG = ROOT / "deploy" / "nginx.conf"


def test_every_long_running_service_has_a_health_check_and_restarts(compose: dict) -> None:
    for name, service in compose["services"].items():
        if name in ONE_SHOT:
            assert service["restart"] == "no" and "healthcheck" not in service, name
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and check["test"][0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
        assert not check.get("disable"), name
        assert service.get("restart") == "unless-stopped", f"{name} does not restart when it exits"


@pytest.mark.parametrize("name", ["api", "worker"])
def test_api_and_worker_run_two_replicas_after_temporal_is_healthy(compose: dict, name: str) -> None:
    service = compose["services"][name]
    assert service["deploy"]["replicas"] == 2
    assert "container_name" not in service  # a fixed name allows one container only
    assert _depends_on(service)["temporal"]["condition"] == "service_healthy"


def test_the_api_is_reached_through_the_balancer_only(compose: dict) -> None:
    api, lb = compose["services"]["api"], compose["services"]["lb"]
    # Two replicas cannot publish one host port: the balancer publishes it.
    assert "ports" not in api
    assert lb["ports"] == ["8000:8000"]
    assert _depends_on(lb)["api"]["condition"] == "service_healthy"
    mount = lb["volumes"][0].split(":")
    assert (ROOT / mount[0]).resolve() == LB_CONFIG and mount[1] == "/etc/nginx/conf.d/default.conf"
    config = LB_CONFIG.read_text()
    assert "server api:8000 resolve" in config and "resolver 127.0.0.11" in config
    assert "proxy_pass http://api;" in config and "X-Forwarded-For" in config
    assert "location = /lb-healthz" in config and "/lb-healthz" in " ".join(lb["healthcheck"]["test"])
    # Sign-in limits count per client address: behind the balancer the API must read the forwarded one.
    command = api["command"]
    assert "--proxy-headers" in command and command[command.index("--forwarded-allow-ips") + 1] == "*"


def _project_command(command: list[str]) -> None:
    """What an app container runs exists in the project: its program in the environment, the
    module or the ASGI app it names, the probe's Python."""
    program, *args = command
    assert program in ("python", "alembic", "uvicorn"), command
    assert (ROOT / ".venv" / "bin" / program).exists() or program == "python", command
    if program == "python" and args[0] == "-m":
        assert importlib.util.find_spec(args[1]) is not None, command
    if program == "python" and args[0] == "-c":
        compile(args[1], "<healthcheck>", "exec")
        assert "/healthz" in args[1] and "/healthz" in create_app().openapi()["paths"], command
    if program == "uvicorn":
        module, attribute = args[0].split(":")
        assert hasattr(importlib.import_module(module), attribute), command
    if program == "alembic":
        assert (ROOT / "alembic.ini").exists()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_commands_and_probes_exist_in_the_project(compose: dict, name: str) -> None:
    service = compose["services"][name]
    # Without its own command a container runs the image's CMD (Dockerfile).
    dockerfile_cmd = json.loads(re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)[1])
    _project_command(service.get("command") or dockerfile_cmd)
    if "healthcheck" in service:
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD", name  # the slim image has no shell tools (curl, wget): Python probes
        _project_command(test[1:])
