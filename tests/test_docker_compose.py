"""docker-compose.yml describes the production topology; these checks keep it in step with the code.

Docker is not needed: the file is parsed, not run.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

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
