"""A worker stopped in the middle of a case: nothing accepted is lost, and the case finishes."""

from __future__ import annotations

import asyncio

from temporalio.testing import WorkflowEnvironment

from services.demo_case import (
    COUNTY_OFFICER,
    VILLAGE_CADRE,
    authorisation,
    democratic_review,
    home_verification,
)
from services.settings import Settings
from services.workers.main import running_worker
from tests.conftest import api_for, new_household_body


async def test_case_survives_a_worker_restart(
    settings: Settings, temporal: WorkflowEnvironment, live_api: object
) -> None:
    own = settings.model_copy(update={"temporal_task_queue": "identification-restart"})
    async with api_for(own, temporal.client) as driver:
        await driver.publish_notice_seconds(1)
        code = (await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())).json()["code"]

        async with running_worker(temporal.client, own):
            case = await driver.open_case(code)
            await driver.act(VILLAGE_CADRE, case["case_id"], "home-verification", home_verification())
        # The worker is gone. An action sent now waits for a worker rather than failing.
        pending = asyncio.create_task(driver.act(VILLAGE_CADRE, case["case_id"], "authorisation", authorisation()))
        await asyncio.sleep(1.5)
        assert not pending.done()

        async with running_worker(temporal.client, own):
            assert (await pending)["step"] == "cross_check"
            await driver.wait_for_step(case["case_id"], "democratic_review")
            case = await driver.act(VILLAGE_CADRE, case["case_id"], "democratic-review", democratic_review())
            await driver.wait_for_step(case["case_id"], "township_review")
            case = await driver.after_notice(case["case_id"])
        assert case["outcome"] == "monitoring_target"
        timeline = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case['case_id']}/timeline")).json()["entries"]
        assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
