"""The county officer records a silent department's cross-check result by hand on the case page, in
a real browser: lines that do not read, an ID number that fails its check and a missing reason are
shown beside their fields and record nothing; the corrected form records the result and its
findings, and the form leaves the page once no department is waiting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from playwright.async_api import expect

from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver
from services.department_simulator.client import SimulatorClient
from services.domain.months import local_date
from tests.applicants import eventually
from tests.conftest import NewHousehold
from tests.departments.signed import authorised_case, timeline_actions
from tests.web.conftest import SignIn, fits_phone

FORM = "#action-record_cross_check"
FINDINGS = f"{FORM} [name='results[real_estate].findings']"


def _wrong_check_digit(id_number: str) -> str:
    return id_number[:-1] + ("1" if id_number[-1] != "1" else "2")


async def _requests(driver: CaseDriver, case_id: str) -> dict[str, Any]:
    case = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}")).json()
    return dict(case["cross_check"]["requests"])


async def test_a_silent_departments_result_recorded_by_hand_through_the_page(
    sign_in: SignIn, driver: CaseDriver, departments: SimulatorClient, new_household: NewHousehold
) -> None:
    household = await new_household()
    spouse = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{household}")).json()["members"][1]["id_number"]
    await departments.behave("real_estate", silent=True)
    case_id = (await authorised_case(driver, household))["case_id"]
    pending = await eventually(
        lambda: driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}/review-input"),
        lambda answer: answer.json()["pending_departments"] == ["real_estate"],
        timeout=40,
    )
    assert pending.json()["pending_departments"] == ["real_estate"]

    officer = await sign_in(COUNTY_OFFICER)
    await officer.goto(f"/cases/{case_id}")
    if await officer.locator(FORM).get_attribute("open") is None:
        await officer.click(f"{FORM} summary")
    # One row, for the department still waiting, with the rules beside its fields.
    await expect(officer.locator(f"{FORM} [name$='].status']")).to_have_count(1)
    await expect(officer.locator(FORM)).to_contain_text("不动产登记（")
    await expect(officer.locator(FORM)).to_contain_text("身份证号 类别 说明 数值")
    await fits_phone(officer, "case-cross-check-by-hand")

    # Today in the county at midnight: never later than the moment the test runs.
    today = local_date(datetime.now(UTC)).isoformat()
    await officer.select_option(f"{FORM} [name='results[real_estate].status']", "completed")
    await officer.fill(f"{FORM} [name='results[real_estate].completed_at']", f"{today}T00:00")
    await officer.fill(FINDINGS, f"{_wrong_check_digit(spouse)} real_estate 住房一套 120\n{spouse} 只有两项")
    await officer.click(f"{FORM} button[type=submit]")
    await officer.wait_for_load_state()
    beside_findings = officer.locator(".error[data-field='results[real_estate].findings']")
    await expect(beside_findings).to_have_count(2)
    await expect(beside_findings.nth(0)).to_contain_text("第2行应为：身份证号 类别 说明 数值")
    await expect(beside_findings.nth(1)).to_contain_text("第1行：")
    await expect(officer.locator(".error[data-field=reason]")).to_contain_text("必填")
    await expect(officer.locator(FINDINGS)).to_have_value(
        f"{_wrong_check_digit(spouse)} real_estate 住房一套 120\n{spouse} 只有两项"
    )
    await fits_phone(officer, "case-cross-check-refused")
    assert (await _requests(driver, case_id))["real_estate"]["status"] not in ("answered", "recorded_by_hand")
    assert "record_cross_check" not in await timeline_actions(driver, case_id)

    await officer.fill(FINDINGS, f"{spouse} real_estate 住房一套 120.5\n{spouse} vehicle 小型轿车 1 辆")
    await officer.fill(f"{FORM} [name=reason]", "不动产登记中心逾期未反馈，已线下调取查询结果")
    # A row typed for a department that answered after the page was drawn (its row is gone now):
    # nothing is recorded, not even the waiting department's, and the officer is told why.
    answered = next(code for code in await _requests(driver, case_id) if code != "real_estate")
    await officer.evaluate(
        """([form, name]) => {
            const row = document.createElement("input");
            Object.assign(row, {type: "hidden", name, value: "completed"});
            document.querySelector(form + " form").appendChild(row);
        }""",
        [FORM, f"results[{answered}].status"],
    )
    await officer.click(f"{FORM} button[type=submit]")
    await officer.wait_for_load_state()
    await expect(officer.locator(".error[data-field=results]")).to_contain_text("在您填写期间到达，本次未录入任何结果")
    assert (await _requests(driver, case_id))["real_estate"]["status"] not in ("answered", "recorded_by_hand")

    await officer.fill(f"{FORM} [name=reason]", "不动产登记中心逾期未反馈，已线下调取查询结果")
    await officer.click(f"{FORM} button[type=submit]")
    await officer.wait_for_load_state()
    await expect(officer.locator(FORM)).to_have_count(0)  # no department left waiting

    recorded = (await _requests(driver, case_id))["real_estate"]
    assert (recorded["status"], recorded["recorded_by"]) == ("recorded_by_hand", COUNTY_OFFICER)
    assert recorded["reason"] == "不动产登记中心逾期未反馈，已线下调取查询结果"
    case = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}")).json()
    matches = {m["id_number"]: m["matches"] for m in case["findings_by_member"]}[spouse]
    assert matches == [
        {"department": "real_estate", "kind": "real_estate", "description": "住房一套", "value": 120.5},
        {"department": "real_estate", "kind": "vehicle", "description": "小型轿车 1 辆", "value": None},
    ]
    assert (await timeline_actions(driver, case_id)).count("record_cross_check") == 1
