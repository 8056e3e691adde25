"""The village notice is a durable timer: five days pass in seconds on the time-skipping server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from services.demo_case import VILLAGE_CADRE, CaseDriver, objection
from services.settings import Settings
from tests.conftest import new_household_body, time_skipping_api


@pytest_asyncio.fixture(scope="module")
async def skipping(settings: Settings, live_api: object) -> AsyncIterator[tuple[WorkflowEnvironment, CaseDriver]]:
    async with time_skipping_api(settings, "identification-time-skipping") as (env, driver):
        policy = (await driver.post("admin", "/api/v1/policies", {})).json()
        assert policy["notice_days"] == 5
        yield env, driver


async def _case_in_notice(driver: CaseDriver) -> str:
    code = (await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())).json()["code"]
    case = await driver.open_case(code)
    case = await driver.through_review(case["case_id"])
    assert case["step"] == "village_notice"
    # The departments answer in real seconds; let them, before days are skipped past their deadline.
    case = await driver.wait_for_cross_check(case["case_id"])
    assert case["cross_check"]["completed_at"] is not None
    return case["case_id"]


async def test_notice_lasts_the_policy_days(skipping: tuple[WorkflowEnvironment, CaseDriver]) -> None:
    env, driver = skipping
    case_id = await _case_in_notice(driver)
    case = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}")).json()
    assert case["step_due_at"] == case["notice"]["ends_at"]

    await env.sleep(timedelta(days=4, hours=23))
    case = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}")).json()
    assert case["step"] == "village_notice", "still inside the five days"

    await env.sleep(timedelta(hours=2))
    case = await driver.wait_for_step(case_id, "township_review", timeout=20)
    assert case["step"] == "township_review"


async def test_pending_objection_outlasts_the_notice(skipping: tuple[WorkflowEnvironment, CaseDriver]) -> None:
    env, driver = skipping
    case_id = await _case_in_notice(driver)
    await env.sleep(timedelta(days=2))
    await driver.act(VILLAGE_CADRE, case_id, "objections", objection())
    await env.sleep(timedelta(days=4))
    case = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}")).json()
    assert case["step"] == "village_notice"
    await driver.act(
        VILLAGE_CADRE, case_id, "objections/1/resolution", {"decision": "dismissed", "findings": "异议不实"}
    )
    case = await driver.wait_for_step(case_id, "township_review", timeout=20)
    assert case["step"] == "township_review"
