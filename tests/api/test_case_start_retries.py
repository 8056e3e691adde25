"""A case start sent with an `Idempotency-Key` is answered with the case it opened, however its
attempts interleave and even if the first one dies before its answer is stored."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import select
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.db.tables import IdempotencyRecord
from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver
from services.demo_data import DEMO_PASSWORD
from services.devstack.servers import free_port, wait_for_port
from services.settings import Settings
from services.workers.main import running_worker
from tests.conftest import NewHousehold, api_for

ROOT = Path(__file__).resolve().parents[2]


async def _runs(temporal: WorkflowEnvironment, household: str) -> list[object]:
    return [w async for w in temporal.client.list_workflows(f"WorkflowId = 'identification-{household}'")]


async def test_concurrent_starts_with_one_key_all_get_the_case(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment
) -> None:
    household = await new_household()
    body = {"household_code": household, "channel": "cadre_screening", "lead_note": "重复提交"}
    answers = await asyncio.gather(
        *(driver.post(VILLAGE_CADRE, "/api/v1/cases", body, **{"Idempotency-Key": "start-burst"}) for _ in range(6))
    )
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    case_ids = {a.json()["case_id"] for a in answers}
    assert len(case_ids) == 1

    again = await driver.post(VILLAGE_CADRE, "/api/v1/cases", body, **{"Idempotency-Key": "start-burst"})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["case_id"] in case_ids
    listed = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=household)).json()["items"]
    assert [c["case_id"] for c in listed] == list(case_ids)
    assert len(await _runs(temporal, household)) == 1
    # Another key still finds the household's case open.
    other = await driver.post(VILLAGE_CADRE, "/api/v1/cases", body, **{"Idempotency-Key": "start-other"})
    assert other.status_code == 409 and other.json()["detail"]["case_id"] in case_ids


@contextmanager
def api_process(settings: Settings, temporal: WorkflowEnvironment, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """The API as its own process (uvicorn), configured by environment like a deployment."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.require_database_url(),
        "ENVIRONMENT": "test",
        "TEMPORAL_ADDRESS": temporal.client.service_client.config.target_host,
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "services.api.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for_port(port, timeout=60, process=process)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)


async def test_a_start_whose_answer_was_lost_is_answered_with_its_case(
    settings: Settings, temporal: WorkflowEnvironment, driver: CaseDriver, new_household: NewHousehold
) -> None:
    """The API process is killed after it started the case's workflow and before it stored the
    answer (no worker serves the case's task queue yet, so the start waits for the case to be
    recorded). The retry, on a restarted API, gets the case that start opened."""
    household = await new_household()
    own = settings.model_copy(update={"temporal_task_queue": f"lost-answer-{household}"})
    body = {"household_code": household, "channel": "cadre_screening"}
    key = {"Idempotency-Key": "start-lost"}
    port = free_port()
    with api_process(own, temporal, port) as process:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            login = await http.post("/api/v1/auth/login", json={"username": VILLAGE_CADRE, "password": DEMO_PASSWORD})
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"} | key
            first = asyncio.create_task(http.post("/api/v1/cases", json=body, headers=headers))
            handle = temporal.client.get_workflow_handle(f"identification-{household}")
            for _ in range(200):
                try:
                    started = await handle.describe()
                    break
                except RPCError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the first attempt never started the case")
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=15)
            try:
                await first
            except httpx.HTTPError:
                pass  # the connection died with the process
            else:
                raise AssertionError("the first attempt was answered")
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    select(IdempotencyRecord.status_code).where(
                        IdempotencyRecord.username == VILLAGE_CADRE, IdempotencyRecord.key == "start-lost"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    assert stored.status_code is None, "the key was claimed and its answer never stored"
    opened_case = (await started.memo())["case_id"]

    async with running_worker(temporal.client, own), api_for(own, temporal.client) as api:
        retry = await api.post(VILLAGE_CADRE, "/api/v1/cases", body, **key)
        assert retry.status_code == 201, retry.text
        assert retry.json()["case_id"] == opened_case
        again = await api.post(VILLAGE_CADRE, "/api/v1/cases", body, **key)
        assert again.status_code == 201 and again.json()["case_id"] == opened_case
        assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(await _runs(temporal, household)) == 1
    listed = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=household)).json()["items"]
    assert [c["case_id"] for c in listed] == [opened_case]
