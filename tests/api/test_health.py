"""Liveness and readiness: /readyz names what is down, /healthz answers as long as the process does."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.api.app import app
from services.demo_case import CaseDriver
from services.settings import Settings
from tests.conftest import api_for

# Nothing listens on port 1 of this machine.
_NOWHERE_DATABASE = "postgresql+asyncpg://nobody:nothing@127.0.0.1:1/nothing"


async def test_ready_when_postgresql_and_temporal_answer(driver: CaseDriver) -> None:
    assert (await driver.http.get("/healthz")).json() == {"status": "ok"}
    ready = await driver.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "postgresql": "ok", "temporal": "ok"}


async def test_not_ready_names_the_database_that_is_down(settings: Settings, temporal: WorkflowEnvironment) -> None:
    async with api_for(settings.model_copy(update={"database_url": _NOWHERE_DATABASE}), temporal.client) as api:
        assert (await api.http.get("/healthz")).status_code == 200
        answer = await api.http.get("/readyz")
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    detail = answer.json()["detail"]
    assert (detail["code"], detail["postgresql"], detail["temporal"]) == ("not_ready", "unavailable", "ok")


async def test_not_ready_names_temporal_when_it_is_down(settings: Settings) -> None:
    unreachable = await Client.connect("127.0.0.1:1", lazy=True)
    async with api_for(settings, unreachable) as api:
        answer = await api.http.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["detail"] | {"message": ""} == {
        "code": "not_ready",
        "message": "",
        "postgresql": "ok",
        "temporal": "unavailable",
    }


def test_both_endpoints_are_documented() -> None:
    paths = app.openapi()["paths"]
    assert "get" in paths["/healthz"] and "503" in paths["/readyz"]["get"]["responses"]
