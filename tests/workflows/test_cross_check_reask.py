"""A department that accepted a cross-check request and then stays silent (its answer lost in
an outage) is asked again with the same request id after its re-ask time (time-skipping),
shown to the county officer as silent before it is overdue; one that answers in time is
never asked again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from services.demo_case import ADMIN, COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver
from services.department_simulator.client import SimulatorClient
from services.domain.policy import DEFAULT_POLICY
from services.settings import Settings
from services.workflows.identification import IdentificationWorkflow, identification_workflow_id
from tests.conftest import new_household_body, time_skipping_api
from tests.departments.signed import authorised_case

ON_TIME = ("market_entities", "public_payroll", "social_insurance")

# Departments have 5 days to answer here (the default is 3): the other steps shortened to fit the 15 days.
FIVE_DAY_ANSWERS = {"notice_days": 1, "step_days": {**DEFAULT_POLICY.step_days, "cross_check": 5}}


@pytest_asyncio.fixture(scope="module")
async def skipping(settings: Settings, live_api: object) -> AsyncIterator[tuple[WorkflowEnvironment, CaseDriver]]:
    async with time_skipping_api(settings, "identification-reasks", policy=FIVE_DAY_ANSWERS) as skipping:
        yield skipping


@asynccontextmanager
async def reask_after(driver: CaseDriver, department: str, hours: float) -> AsyncIterator[None]:
    """The department's registry entry with another re-ask time, put back afterwards."""
    before = (await driver.get(ADMIN, f"/api/v1/departments/{department}")).json()
    body = {k: before[k] for k in ("name", "base_url", "answer_days", "enabled")}
    path, headers = f"/api/v1/departments/{department}", await driver.headers(ADMIN)
    answer = await driver.http.put(path, json=body | {"reask_hours": hours}, headers=headers)
    assert answer.status_code == 200, answer.text
    try:
        yield
    finally:
        await driver.http.put(path, json=body | {"reask_hours": before["reask_hours"]}, headers=headers)


async def _received(departments: SimulatorClient, department: str, request_id: str) -> dict[str, Any] | None:
    """How the department saw the request: `answered` counts the times it came."""
    seen = (await departments.inspect(department))["received"]
    return next((r for r in seen if r["request_id"] == request_id), None)


async def _received_times(departments: SimulatorClient, department: str, request_id: str, times: int) -> int:
    """How often the department has received the request, once it is `times` (or after 30 s)."""
    for _ in range(150):
        seen = await _received(departments, department, request_id)
        if seen and seen["answered"] >= times:
            break
        await asyncio.sleep(0.2)
    return seen["answered"] if seen else 0


async def _tasks_of(driver: CaseDriver, case_id: str) -> dict[str, dict]:
    items = (await driver.get(COUNTY_OFFICER, "/api/v1/cross-check-tasks")).json()["items"]
    return {t["department"]: t for t in items if t["case_id"] == case_id}


async def _started(driver: CaseDriver, waiting_for: str) -> dict[str, Any]:
    """A case whose departments have all accepted, and all but `waiting_for` answered."""
    code = (await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())).json()["code"]
    case = await authorised_case(driver, code)
    case = await driver.wait_for(
        case["case_id"],
        lambda c: len(c["cross_checks"]) == 4 and c["cross_check"]["requests"][waiting_for]["status"] == "awaiting",
    )
    request = case["cross_check"]["requests"][waiting_for]
    assert waiting_for not in case["cross_checks"] and request["accepted_at"], (request, case["step"])
    return case


async def _asked_once(departments: SimulatorClient, case: dict[str, Any]) -> None:
    for department in ON_TIME:
        request_id = case["cross_check"]["requests"][department]["request_id"]
        seen = await _received(departments, department, request_id)
        assert seen is not None and seen["answered"] == 1, (department, seen)


async def test_a_lost_answer_is_asked_for_again_and_settles_the_case(
    skipping: tuple[WorkflowEnvironment, CaseDriver], departments: SimulatorClient
) -> None:
    env, driver = skipping
    too_soon = await driver.http.put(
        "/api/v1/departments/vehicles",
        headers=await driver.headers(ADMIN),
        json={"base_url": departments.base_url + "/vehicles", "reask_hours": 0.5},
    )
    assert too_soon.status_code == 422 and too_soon.json()["detail"]["errors"][0]["field"] == "reask_hours"

    await departments.behave("vehicles", lose_answers=1)  # accepts the first request; its answer never comes
    async with reask_after(driver, "vehicles", hours=6):
        case = await _started(driver, "vehicles")
        case_id, vehicles = case["case_id"], case["cross_check"]["requests"]["vehicles"]
        request_id = vehicles["request_id"]
        assert vehicles["reask_hours"] == 6 and vehicles["reasks"] == 0

        await env.sleep(timedelta(hours=5, minutes=50))
        case = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}")).json()
        assert case["cross_check"]["requests"]["vehicles"]["status"] == "awaiting"
        assert await _received(departments, "vehicles", request_id) == {
            "request_id": request_id,
            "answered": 1,
            "subjects": 2,
        }
        assert (await departments.inspect("vehicles"))["lost"] == [request_id]
        assert await _tasks_of(driver, case_id) == {}

        await env.sleep(timedelta(minutes=20))
        case = await driver.wait_for(case_id, lambda c: "vehicles" in c["cross_checks"])
    vehicles = case["cross_check"]["requests"]["vehicles"]
    assert vehicles["status"] == "answered" and vehicles["request_id"] == request_id and vehicles["reasks"] == 1
    assert case["cross_check"]["completed_at"] is not None, "its answer settles the cross-check"
    assert await _received_times(departments, "vehicles", request_id, 2) == 2, "asked again, same request id"
    assert (await departments.inspect("vehicles"))["callbacks"] == [
        {"request_id": request_id, "status_code": 200, "error": None}
    ]
    await _asked_once(departments, case)
    assert await _tasks_of(driver, case_id) == {}

    timeline = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}/timeline")).json()["entries"]
    reasks = [e for e in timeline if e["action"] == "reask_cross_check"]
    assert len(reasks) == 1 and reasks[0]["actor"] == "system"
    assert reasks[0]["data"]["departments"] == ["vehicles"] and reasks[0]["data"]["request_ids"] == [request_id]
    answered = [
        i
        for i, e in enumerate(timeline)
        if e["action"] == "receive_cross_check_result" and e["data"]["department"] == "vehicles"
    ]
    assert len(answered) == 1 and answered[0] > timeline.index(reasks[0])
    audit = (await driver.get(COUNTY_OFFICER, "/api/v1/audit", case_id=case_id, action="reask_cross_check")).json()
    assert [e["data"]["request_ids"] for e in audit["items"]] == [[request_id]]


async def test_a_silent_department_is_asked_each_day_and_listed_before_it_is_overdue(
    skipping: tuple[WorkflowEnvironment, CaseDriver], departments: SimulatorClient
) -> None:
    env, driver = skipping
    await departments.behave("real_estate", silent=True)
    case = await _started(driver, "real_estate")
    case_id, request_id = case["case_id"], case["cross_check"]["requests"]["real_estate"]["request_id"]
    assert case["cross_check"]["requests"]["real_estate"]["reask_hours"] == 24, "the registry's default"

    await env.sleep(timedelta(hours=23))
    case = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}")).json()
    assert case["cross_check"]["requests"]["real_estate"]["status"] == "awaiting"
    assert await _tasks_of(driver, case_id) == {}

    await env.sleep(timedelta(hours=2))
    case = await driver.wait_for(case_id, lambda c: c["cross_check"]["requests"]["real_estate"]["status"] == "silent")
    assert case["cross_check"]["requests"]["real_estate"]["reasks"] == 1
    listed = await _tasks_of(driver, case_id)
    assert list(listed) == ["real_estate"] and listed["real_estate"]["status"] == "silent"
    assert listed["real_estate"]["status_label"] == "部门已受理但久未反馈，已自动重新询问"
    assert listed["real_estate"]["request_id"] == request_id
    assert await _received_times(departments, "real_estate", request_id, 2) == 2

    await env.sleep(timedelta(hours=24))
    case = await driver.wait_for(case_id, lambda c: c["cross_check"]["requests"]["real_estate"]["reasks"] == 2)
    assert await _received_times(departments, "real_estate", request_id, 3) == 3

    # At the deadline: overdue, a task for the county officer; asked once a day until then.
    await env.sleep(timedelta(days=3))
    case = await driver.wait_for(case_id, lambda c: c["cross_check"]["requests"]["real_estate"]["status"] == "overdue")
    assert case["cross_check"]["requests"]["real_estate"]["reasks"] == 4
    assert await _received_times(departments, "real_estate", request_id, 5) == 5
    assert (await _tasks_of(driver, case_id))["real_estate"]["status"] == "overdue"
    await _asked_once(departments, case)
    assert "vehicles" in case["cross_checks"]
    timeline = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}/timeline")).json()["entries"]
    assert [e["data"]["reasks"] for e in timeline if e["action"] == "reask_cross_check"] == [
        {"real_estate": n} for n in (1, 2, 3, 4)
    ]

    # The re-asks' history replays against this code (the patch marker keeps older cases on theirs).
    history = await env.client.get_workflow_handle(identification_workflow_id(case["household_code"])).fetch_history()
    replayer = Replayer(workflows=[IdentificationWorkflow], data_converter=env.client.data_converter)
    assert (await replayer.replay_workflow(history, raise_on_replay_failure=False)).replay_failure is None
