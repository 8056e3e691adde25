"""The evidence tests run against each store: the local disk, and s3rver, a real S3-compatible
server in its own process (tests/evidence/s3rver.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
import pytest_asyncio
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from services.api.app import create_app
from services.demo_case import CaseDriver
from services.settings import Settings
from tests.conftest import driver_for
from tests.evidence.s3rver import running_s3rver, s3_settings


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_s3rver(tmp_path_factory.mktemp("s3rver") / "data") as endpoint:
        yield endpoint


@pytest.fixture(scope="session", params=["local", "s3"])
def evidence_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The test settings with evidence kept on the local disk, then in s3rver's bucket."""
    if request.param == "local":
        return settings
    return s3_settings(settings, request.getfixturevalue("s3_endpoint"))


@asynccontextmanager
async def evidence_app(settings: Settings, temporal: WorkflowEnvironment) -> AsyncIterator[FastAPI]:
    """An API (lifespan and all) with these settings, beside the live one, on the same database."""
    app = create_app(settings, temporal=temporal.client)
    async with app.router.lifespan_context(app):
        yield app


@pytest_asyncio.fixture(scope="session")
async def evidence_api(
    evidence_settings: Settings, temporal: WorkflowEnvironment, driver: CaseDriver
) -> AsyncIterator[CaseDriver]:
    """Requests to an API keeping evidence in `evidence_settings`' store (the worker is `driver`'s)."""
    async with evidence_app(evidence_settings, temporal) as app, driver_for(app) as api:
        yield api
