"""Fixtures: real servers only. An embedded PostgreSQL (or TEST_DATABASE_URL, an
empty database), a Temporal dev server, a worker, the department simulator (its own
process), and the API: served over real HTTP on a free port (departments call it
back there) and to the tests in-process over httpx. Time-skipping tests get their own
Temporal test server and worker; department callbacks for their cases arrive at the
same live API and reach them through their worker's inbox forwarder."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.api.app import create_app
from services.db.engine import create_engine
from services.demo_case import ADMIN, DEMO_VILLAGE, VILLAGE_CADRE, CaseDriver, Clock, machine_clock
from services.demo_data import DEMO_PASSWORD, demo_id_number, load_demo_data, load_demo_departments
from services.department_simulator.client import SimulatorClient, start_simulator
from services.devstack.servers import SQLITE_PRAGMAS, free_port, start_embedded_postgres, venv_binary
from services.observability.temporal_headers import RequestIdsToTemporal
from services.settings import Settings
from services.temporal_client import data_converter
from services.workers.main import running_worker

ROOT = Path(__file__).resolve().parent.parent


def migrate_with_demo_data(url: str) -> None:
    """Brings an empty database to the newest schema and loads the demo data."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")

    async def seed() -> None:
        engine = create_engine(url)
        await load_demo_data(engine)
        await engine.dispose()

    asyncio.run(seed())


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = None
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        server, url = start_embedded_postgres(tmp_path_factory.mktemp("postgres"))
    migrate_with_demo_data(url)
    yield url
    if server is not None:
        server.cleanup()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # The live API (fixture `live_api`) listens on this port: departments call back there.
    return Settings(
        environment="test",
        database_url=database_url,
        temporal_address="set-by-fixture",
        public_base_url=f"http://127.0.0.1:{free_port()}",
        # Tests publish policies with notices of seconds: below the rules' floors.
        development_policies=True,
        evidence_dir=str(tmp_path_factory.mktemp("evidence")),
    )


@pytest_asyncio.fixture(scope="session")
async def simulator(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SimulatorClient]:
    """The department simulator, every department kind of 靖边县 registered at it."""
    port = free_port()
    process = start_simulator(port, log_file=tmp_path_factory.mktemp("simulator") / "simulator.log")
    url = f"http://127.0.0.1:{port}"
    engine = create_engine(settings.require_database_url())
    await load_demo_departments(engine, settings, url)
    await engine.dispose()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            yield SimulatorClient(url, http)
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest_asyncio.fixture
async def departments(simulator: SimulatorClient) -> AsyncIterator[SimulatorClient]:
    """The simulator, back to its default behaviour (answer at once, nothing found) after the test."""
    yield simulator
    await simulator.reset()


@pytest_asyncio.fixture(scope="session")
async def temporal(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    pragmas = [arg for p in SQLITE_PRAGMAS for arg in ("--sqlite-pragma", p)]
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=venv_binary("temporal"),
        data_converter=data_converter(settings),
        dev_server_extra_args=pragmas,
        ui=False,
        interceptors=[RequestIdsToTemporal()],  # as services.temporal_client.connect: request ids into workflows
    ) as env:
        yield env


@asynccontextmanager
async def driver_for(
    app: FastAPI, client_address: str = "127.0.0.1", clock: Clock = machine_clock
) -> AsyncIterator[CaseDriver]:
    """Requests appear to come from `client_address` (rate limits count per address); forms are
    dated by `clock`, the workflows' clock."""
    transport = httpx.ASGITransport(app=app, client=(client_address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test", timeout=60) as http:
        yield CaseDriver(http, clock)


@asynccontextmanager
async def api_for(
    settings: Settings, client: Client, client_address: str = "127.0.0.1", clock: Clock = machine_clock
) -> AsyncIterator[CaseDriver]:
    """The real FastAPI app (lifespan and all) over an in-process HTTP transport."""
    app = create_app(settings, temporal=client)
    async with app.router.lifespan_context(app), driver_for(app, client_address, clock) as case_driver:
        yield case_driver


@asynccontextmanager
async def serving_api(settings: Settings, client: Client) -> AsyncIterator[FastAPI]:
    """The API on settings.public_base_url over real HTTP (uvicorn, in this event loop)."""
    app = create_app(settings, temporal=client)
    async with app.router.lifespan_context(app):
        port = int(settings.public_base_url.rsplit(":", 1)[1])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.05)
        try:
            yield app
        finally:
            server.should_exit = True
            await serving


@pytest_asyncio.fixture(scope="session")
async def live_api(
    settings: Settings, temporal: WorkflowEnvironment, simulator: SimulatorClient
) -> AsyncIterator[FastAPI]:
    """The API where departments call back (settings.public_base_url)."""
    async with serving_api(settings, temporal.client) as app:
        yield app


@asynccontextmanager
async def time_skipping_api(
    settings: Settings, task_queue: str, policy: dict[str, Any] | None = None
) -> AsyncIterator[tuple[WorkflowEnvironment, CaseDriver]]:
    """A time-skipping Temporal test server with its own worker and API (on its own task queue);
    `policy`: published first (POST /policies), for the cases the test opens."""
    own = settings.model_copy(update={"temporal_task_queue": task_queue})
    async with (
        await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=venv_binary("temporal-test-server"), data_converter=data_converter(own)
        ) as env,
        running_worker(env.client, own),
        api_for(own, env.client, clock=env.get_current_time) as case_driver,
    ):
        if policy is not None:
            answer = await case_driver.post(ADMIN, "/api/v1/policies", policy)
            assert answer.status_code == 201, answer.text
        yield env, case_driver


@pytest_asyncio.fixture(scope="session")
async def driver(settings: Settings, temporal: WorkflowEnvironment, live_api: FastAPI) -> AsyncIterator[CaseDriver]:
    async with running_worker(temporal.client, settings), driver_for(live_api) as case_driver:
        yield case_driver


_numbers = itertools.count(random.randrange(1, 10_000) * 100)


def new_household_body(village_code: str = DEMO_VILLAGE, size: int = 2) -> dict[str, Any]:
    """A registrable household with ID numbers no other test uses."""
    members = []
    for i in range(size):
        n = next(_numbers)
        born = date(1960, 1, 1) + timedelta(days=n % 15000)
        male = i % 2 == 0
        members.append(
            {
                "name": f"测试{n}",
                "id_number": demo_id_number("610824", born, n, male),
                "relation": "户主" if i == 0 else "配偶",
                "sex": "male" if male else "female",
                "labour_capacity": "full",
            }
        )
    return {"village_code": village_code, "address": "测试地址1组1号", "phone": "13800138000", "members": members}


NewHousehold = Callable[..., Awaitable[str]]


@pytest.fixture
def new_household(driver: CaseDriver) -> NewHousehold:
    async def register(village_code: str = DEMO_VILLAGE, cadre: str = VILLAGE_CADRE) -> str:
        answer = await driver.post(cadre, "/api/v1/households", new_household_body(village_code))
        assert answer.status_code == 201, answer.text
        return answer.json()["code"]

    return register


async def case_snapshot(driver: CaseDriver, client: Client, case_id: str) -> tuple[Any, ...]:
    """What a refused request must leave unchanged: the workflow's state, the read model, the audit."""
    from services.workflows.identification import IdentificationWorkflow

    case = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}")).json()
    timeline = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/timeline")).json()
    handle = client.get_workflow_handle(f"identification-{case['household_code']}")
    workflow_state = await handle.query(IdentificationWorkflow.state)
    return workflow_state.model_dump(mode="json"), case["seq"], case["step"], len(timeline["entries"])


# A second county (榆阳区) with one person of every role: "outside the area" for 靖边县's people.
OTHER_COUNTY = {
    "admin": "yuyang.admin",
    "county_officer": "yuyang.officer",
    "township_approver": "yuyang.approver",
    "village_cadre": "yuyang.cadre",
}


@pytest_asyncio.fixture(scope="session")
async def other_county(settings: Settings) -> dict[str, str]:
    from sqlalchemy.dialects.postgresql import insert

    from services.api.people.security import hash_password
    from services.db.tables import Account, Area

    county, township, village = "610802000000", "610802100000", "610802100201"
    areas = [
        (county, "榆阳区", "county", None),
        (township, "鱼河镇", "township", county),
        (village, "鱼河村", "village", township),
    ]
    homes = {"admin": county, "county_officer": county, "township_approver": township, "village_cadre": village}
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(
            insert(Area)
            .values([dict(zip(("code", "name", "level", "parent_code"), a, strict=True)) for a in areas])
            .on_conflict_do_nothing()
        )
        await conn.execute(
            insert(Account)
            .values(
                [
                    {
                        "username": u,
                        "display_name": f"榆阳区 {role}",
                        "role": role,
                        "area_code": homes[role],
                        "password_hash": hash_password(DEMO_PASSWORD),
                    }
                    for role, u in OTHER_COUNTY.items()
                ]
            )
            .on_conflict_do_nothing()
        )
    await engine.dispose()
    return OTHER_COUNTY
