"""Deadlines escalate: a step's deadline passing on the time-skipping server marks its task and
gives the level above a task; the 15-day limit goes to the county. On the dev server, with a
one-second deadline, the county and the township see the overdue list by area."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, home_verification
from services.domain.policy import DEFAULT_POLICY
from services.settings import Settings
from tests.conftest import NewHousehold, new_household_body, time_skipping_api
from tests.inbox import inbox_tasks


@pytest_asyncio.fixture(scope="module")
async def skipping(settings: Settings, live_api: object) -> AsyncIterator[tuple[WorkflowEnvironment, CaseDriver]]:
    async with time_skipping_api(settings, "identification-escalation") as (env, driver):
        policy = (await driver.post("admin", "/api/v1/policies", {})).json()
        assert policy["step_days"]["home_verification"] == 2 and policy["identification_days"] == 15
        yield env, driver


async def _eventually(probe: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    """The probe's answer once it is truthy (the worker records timers' events a moment later)."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not (answer := await probe()) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
    return answer


async def test_late_steps_escalate_to_the_level_above(skipping: tuple[WorkflowEnvironment, CaseDriver]) -> None:
    env, driver = skipping
    code = (await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())).json()["code"]
    case = await driver.open_case(code)
    case_id = case["case_id"]
    await env.sleep(timedelta(days=1, hours=23))
    assert await inbox_tasks(driver, TOWNSHIP_APPROVER, case_id) == [], "not late yet"

    await env.sleep(timedelta(hours=2))
    escalations = await _eventually(lambda: inbox_tasks(driver, TOWNSHIP_APPROVER, case_id, step="escalation"))
    assert len(escalations) == 1, escalations
    task = escalations[0]
    assert (
        task["title"] == "超期督办：村干部「入户核查」已超期" and task["detail"]["overdue_step"] == "home_verification"
    )
    assert task["role"] == "township_approver" and task["area_code"] == "610824100000"
    late = (await inbox_tasks(driver, VILLAGE_CADRE, case_id))[0]
    assert late["step"] == "home_verification" and late["escalated_at"] is not None, "the late task is marked"
    assert (datetime.fromisoformat(late["escalated_at"]) - datetime.fromisoformat(late["due_at"])) < timedelta(hours=2)
    assert await inbox_tasks(driver, COUNTY_OFFICER, case_id) == [], "a village step goes to the township only"
    timeline = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}/timeline")).json()["entries"]
    escalate = next(e for e in timeline if e["action"] == "escalate")
    assert escalate["actor"] == "system" and escalate["data"]["to_role"] == "township_approver"
    assert escalate["after"]["escalations"][0]["from_role"] == "village_cadre"

    # The step is done: its escalation leaves the township's inbox with it.
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification())
    assert await inbox_tasks(driver, TOWNSHIP_APPROVER, case_id) == []

    # The whole identification runs past its 15 days (the authorisation is late too): the county is told.
    await env.sleep(timedelta(days=13))
    county = await _eventually(lambda: inbox_tasks(driver, COUNTY_OFFICER, case_id, step="escalation"))
    assert [t["subject"] for t in county] == ["identification"]
    assert county[0]["title"] == "超期督办：识别认定已超过办理时限"
    township = await inbox_tasks(driver, TOWNSHIP_APPROVER, case_id, step="escalation")
    assert [t["detail"]["overdue_step"] for t in township] == ["authorisation"]
    actions = [
        e["action"] for e in (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}/timeline")).json()["entries"]
    ]
    assert actions == ["open_case", "escalate", "verify_home", "escalate", "escalate"]


async def test_overdue_list_by_township_and_village(driver: CaseDriver, new_household: NewHousehold) -> None:
    second = 1 / 86400
    published = await driver.post(
        "admin",
        "/api/v1/policies",
        {
            "step_days": {**DEFAULT_POLICY.step_days, "home_verification": second},
        },
    )
    assert published.status_code == 201, published.text
    try:
        case = await driver.open_case(await new_household())
    finally:
        await driver.post("admin", "/api/v1/policies", {})
    case_id = case["case_id"]
    escalated = await _eventually(lambda: inbox_tasks(driver, TOWNSHIP_APPROVER, case_id, step="escalation"))
    assert len(escalated) == 1
    late = await inbox_tasks(driver, VILLAGE_CADRE, case_id, overdue=True)
    assert [t["step"] for t in late] == ["home_verification"] and late[0]["overdue"] is True

    county = (await driver.get(COUNTY_OFFICER, "/api/v1/tasks/overdue", limit=200)).json()
    towns = {a["area_code"]: a for a in county["by_area"]}
    assert set(towns) == {"610824100000", "610824101000", "610824102000", "610824103000"}
    assert towns["610824100000"]["name"] == "东坑镇" and towns["610824100000"]["overdue_tasks"] >= 1
    assert case_id in {t["case_id"] for t in county["items"]}
    township = (await driver.get(TOWNSHIP_APPROVER, "/api/v1/tasks/overdue", limit=200)).json()
    villages = {a["area_code"]: a["overdue_tasks"] for a in township["by_area"]}
    assert villages["610824100201"] >= 1 and set(villages) == {"610824100201", "610824100202", "610824100203"}
    assert (await driver.get(VILLAGE_CADRE, "/api/v1/tasks/overdue")).status_code == 403
    assert (await driver.get(TOWNSHIP_APPROVER, "/api/v1/tasks/overdue", area="610824000000")).status_code == 403
    other = (await driver.get("qingyangcha.approver", "/api/v1/tasks/overdue", limit=200)).json()
    assert case_id not in {t["case_id"] for t in other["items"]}
