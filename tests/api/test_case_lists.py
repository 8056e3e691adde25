"""Case lists: filtered by area, step and overdue; paginated; each case with its timeline."""

from __future__ import annotations

import asyncio

from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, home_verification
from services.domain.identification.procedure import IDENTIFICATION
from tests.conftest import NewHousehold


async def test_cases_carry_due_dates_and_show_overdue(driver: CaseDriver, new_household: NewHousehold) -> None:
    second = 1 / 86400  # every step a second: a version whose steps do not fit its limit is refused
    steps = dict.fromkeys(IDENTIFICATION.step_days, second / 10)
    await driver.post(
        "admin", "/api/v1/policies", {"identification_days": second, "notice_days": second / 10, "step_days": steps}
    )
    late = await driver.open_case(await new_household())
    await driver.post("admin", "/api/v1/policies", {})  # back to 15 days
    on_time = await driver.open_case(await new_household())
    assert on_time["due_at"] > on_time["opened_at"] and on_time["overdue"] is False
    await asyncio.sleep(1.2)

    overdue = (await driver.get(TOWNSHIP_APPROVER, "/api/v1/cases", overdue=True, limit=200)).json()["items"]
    ids = {c["case_id"] for c in overdue}
    assert late["case_id"] in ids and on_time["case_id"] not in ids
    assert all(c["overdue"] for c in overdue)
    fine = (await driver.get(TOWNSHIP_APPROVER, "/api/v1/cases", overdue=False, limit=200)).json()["items"]
    assert on_time["case_id"] in {c["case_id"] for c in fine}
    detail = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{late['case_id']}")).json()
    assert detail["overdue"] is True


async def test_filter_by_step_and_area(driver: CaseDriver, new_household: NewHousehold) -> None:
    verified = await driver.open_case(await new_household())
    await driver.act(VILLAGE_CADRE, verified["case_id"], "home-verification", home_verification())
    fresh = await driver.open_case(await new_household())

    at_authorisation = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", step="authorisation", limit=200)).json()
    ids = {c["case_id"] for c in at_authorisation["items"]}
    assert verified["case_id"] in ids and fresh["case_id"] not in ids
    assert {c["step_label"] for c in at_authorisation["items"]} == {"承诺授权"}

    village = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", area="610824100201", limit=200)).json()["items"]
    assert {c["village_code"] for c in village} == {"610824100201"}
    other = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", area="610824101000", limit=200)).json()["items"]
    assert fresh["case_id"] not in {c["case_id"] for c in other}
    outside = await driver.get(VILLAGE_CADRE, "/api/v1/cases", area="610824100000")
    assert outside.status_code == 403, "a village cadre cannot widen the list to the township"


async def test_pages_follow_a_stable_cursor(driver: CaseDriver, new_household: NewHousehold) -> None:
    for _ in range(3):
        await driver.open_case(await new_household())
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await driver.get(VILLAGE_CADRE, "/api/v1/cases", **params)).json()
        seen += [c["case_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = (await driver.get(VILLAGE_CADRE, "/api/v1/cases", limit=200)).json()["items"]
    assert seen == [c["case_id"] for c in everything] and len(seen) == len(set(seen)) >= 3
    bad = await driver.get(VILLAGE_CADRE, "/api/v1/cases", cursor="garbage")
    assert bad.status_code == 422 and bad.json()["detail"]["errors"][0]["field"] == "cursor"
