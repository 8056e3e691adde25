"""A department that does not answer: its deadline passes (time-skipping), the county officer
gets a task, re-sends it or records it by hand with a reason; township review waits for both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver, cross_check_results, democratic_review
from services.department_simulator.client import SimulatorClient
from services.domain.policy import DEFAULT_POLICY
from services.settings import Settings
from tests.conftest import new_household_body, time_skipping_api
from tests.departments.signed import authorised_case, timeline_actions

# Departments have 5 days to answer here (the default is 3): the other steps shortened to fit the 15 days.
FIVE_DAY_ANSWERS = {"notice_days": 1, "step_days": {**DEFAULT_POLICY.step_days, "cross_check": 5}}


@pytest_asyncio.fixture(scope="module")
async def skipping(settings: Settings, live_api: object) -> AsyncIterator[tuple[WorkflowEnvironment, CaseDriver]]:
    async with time_skipping_api(settings, "identification-deadlines") as (env, driver):
        policy = (await driver.post("admin", "/api/v1/policies", FIVE_DAY_ANSWERS)).json()
        assert policy["step_days"]["cross_check"] == 5
        yield env, driver


async def _tasks_of(driver: CaseDriver, case_id: str) -> dict[str, dict]:
    items = (await driver.get(COUNTY_OFFICER, "/api/v1/cross-check-tasks")).json()["items"]
    return {t["department"]: t for t in items if t["case_id"] == case_id}


async def test_deadline_gives_the_county_officer_a_task(
    skipping: tuple[WorkflowEnvironment, CaseDriver], departments: SimulatorClient
) -> None:
    env, driver = skipping
    await departments.behave("vehicles", silent=True)
    await departments.behave("real_estate", silent=True)
    code = (await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())).json()["code"]
    case = await authorised_case(driver, code)
    case_id = case["case_id"]
    case = await driver.wait_for(case_id, lambda c: len(c["cross_checks"]) == 3)
    first_vehicles_id = case["cross_check"]["requests"]["vehicles"]["request_id"]
    early = await driver.post(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/democratic-review", democratic_review())
    assert early.status_code == 409 and early.json()["detail"]["current_step"] == "cross_check"
    assert "「等待信息比对结果」" in early.json()["detail"]["message"], "the review waits for the cross-check"
    waiting = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/review-input")).json()
    assert waiting["cross_check_complete"] is False
    assert sorted(waiting["pending_departments"]) == ["real_estate", "vehicles"]

    await env.sleep(timedelta(days=4, hours=23))
    case = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}")).json()
    assert case["step"] == "cross_check", "two departments have not answered: the review still waits"
    # Silent since they accepted: asked again each day, and listed as silent, not yet as overdue.
    assert case["cross_check"]["requests"]["vehicles"]["status"] == "silent"
    assert {d: t["status"] for d, t in (await _tasks_of(driver, case_id)).items()} == {
        "vehicles": "silent",
        "real_estate": "silent",
    }

    await env.sleep(timedelta(hours=2))
    case = await driver.wait_for(case_id, lambda c: c["cross_check"]["requests"]["vehicles"]["status"] == "overdue")
    assert case["cross_check"]["requests"]["real_estate"]["status"] == "overdue"
    tasks = await _tasks_of(driver, case_id)
    assert set(tasks) == {"vehicles", "real_estate"}
    assert (
        tasks["vehicles"]["status_label"] == "部门逾期未反馈" and tasks["vehicles"]["request_id"] == first_vehicles_id
    )

    # Re-send: a new request id goes out; this time the department answers.
    await departments.behave("vehicles")
    case = await driver.act(
        COUNTY_OFFICER, case_id, "cross-check-resends", {"department": "vehicles", "note": "已电话联系公安交管"}
    )
    vehicles = case["cross_check"]["requests"]["vehicles"]
    assert vehicles["status"] == "sending" and vehicles["resends"] == 1
    assert vehicles["earlier_request_ids"] == [first_vehicles_id] and vehicles["request_id"] != first_vehicles_id
    case = await driver.wait_for(case_id, lambda c: "vehicles" in c["cross_checks"])
    received = (await departments.inspect("vehicles"))["received"]
    assert vehicles["request_id"] in {r["request_id"] for r in received}
    assert case["step"] == "cross_check", "real estate is still missing"

    # Record by hand, with a reason: every department is settled, the democratic review may start.
    case = await driver.act(
        COUNTY_OFFICER,
        case_id,
        "cross-check-results",
        cross_check_results(["real_estate"], reason="不动产登记系统故障，已调取纸质查询结果"),
    )
    assert case["step"] == "democratic_review"
    assert case["cross_check"]["requests"]["real_estate"]["recorded_by"] == COUNTY_OFFICER
    assert await _tasks_of(driver, case_id) == {}

    timeline = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}/timeline")).json()["entries"]
    audited = {e["action"]: e for e in timeline}
    assert sorted(audited["cross_check_overdue"]["data"]["departments"]) == ["real_estate", "vehicles"]
    assert audited["resend_cross_check"]["actor"] == COUNTY_OFFICER
    assert audited["resend_cross_check"]["data"]["note"] == "已电话联系公安交管"
    assert audited["record_cross_check"]["data"]["reason"] == "不动产登记系统故障，已调取纸质查询结果"
    assert (await timeline_actions(driver, case_id))[-1] == "record_cross_check"
