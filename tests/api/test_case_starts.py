"""One open case per household, whoever starts it and however often."""

from __future__ import annotations

import asyncio

from temporalio.testing import WorkflowEnvironment

from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver
from tests.conftest import NewHousehold


async def test_second_start_names_the_open_case(driver: CaseDriver, new_household: NewHousehold) -> None:
    household = await new_household()
    case = await driver.open_case(household)
    again = await driver.post(
        TOWNSHIP_APPROVER, "/api/v1/cases", {"household_code": household, "channel": "supervision_feedback"}
    )
    assert again.status_code == 409
    detail = again.json()["detail"]
    assert detail["code"] == "case_already_open" and detail["case_id"] == case["case_id"]
    assert "已有正在办理的识别案件" in detail["message"]


async def test_ten_parallel_starts_open_one_case(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment
) -> None:
    household = await new_household()
    starters = [VILLAGE_CADRE, TOWNSHIP_APPROVER, COUNTY_OFFICER] * 4
    answers = await asyncio.gather(
        *(
            driver.post(who, "/api/v1/cases", {"household_code": household, "channel": "cadre_screening"})
            for who in starters[:10]
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 9, [a.text for a in answers]
    winner = next(a.json()["case_id"] for a in answers if a.status_code == 201)
    assert {a.json()["detail"]["case_id"] for a in answers if a.status_code == 409} == {winner}

    listed = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=household)).json()["items"]
    assert [c["case_id"] for c in listed] == [winner]
    runs = [w async for w in temporal.client.list_workflows(f"WorkflowId = 'identification-{household}'")]
    assert len(runs) == 1


async def test_start_needs_a_known_household_in_the_area(driver: CaseDriver, new_household: NewHousehold) -> None:
    unknown = await driver.post(
        VILLAGE_CADRE, "/api/v1/cases", {"household_code": "610824100201999999", "channel": "cadre_screening"}
    )
    assert unknown.status_code == 404
    elsewhere = await new_household(village_code="610824101201", cadre="qingyangcha.cadre")
    foreign = await driver.post(
        VILLAGE_CADRE, "/api/v1/cases", {"household_code": elsewhere, "channel": "cadre_screening"}
    )
    assert foreign.status_code == 404, "a household outside the cadre's village is not even shown to exist"
    admin = await driver.post("admin", "/api/v1/cases", {"household_code": elsewhere, "channel": "cadre_screening"})
    assert admin.status_code == 403
    listed = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=elsewhere)).json()["items"]
    assert listed == []


async def test_a_further_lead_joins_the_open_case(driver: CaseDriver, new_household: NewHousehold) -> None:
    case = await driver.open_case(await new_household())
    joined = await driver.act(
        TOWNSHIP_APPROVER, case["case_id"], "leads", {"channel": "supervision_feedback", "note": "12345热线反映"}
    )
    assert joined["step"] == "home_verification"
    assert joined["further_leads"][0]["channel"] == "supervision_feedback"
    assert joined["further_leads"][0]["added_by"] == TOWNSHIP_APPROVER
    refused = await driver.post("admin", f"/api/v1/cases/{case['case_id']}/leads", {"channel": "platform_analysis"})
    assert refused.status_code == 403
