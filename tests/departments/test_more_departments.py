"""Education, housing, water and civil affairs warn too, played by the department simulator;
the register's flags (脱贫户, 低保, 特困) lower the threshold; members who left are nobody's."""

from __future__ import annotations

import asyncio
from typing import Any

from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver
from services.department_simulator.client import SimulatorClient
from services.settings import Settings
from tests.conftest import NewHousehold
from tests.departments.signed import authorised_case


def _warning(warning_id: str, id_number: str, kind: str, amount: float | None = None) -> dict[str, Any]:
    return {
        "warning_id": warning_id,
        "id_number": id_number,
        "kind": kind,
        "amount": amount,
        "occurred_on": "2026-11-20",
        "detail": "部门推送",
    }


async def _members(driver: CaseDriver, household: str) -> list[dict[str, Any]]:
    return (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{household}")).json()["members"]


async def _outcomes(
    departments: SimulatorClient, settings: Settings, department: str, warnings: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    answer = await departments.send_early_warnings(department, settings.public_base_url, warnings)
    assert answer.status_code == 200, answer.text
    return answer.json()["outcomes"]


async def _case_channel(driver: CaseDriver, household: str) -> str:
    for _ in range(150):
        listed = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=household)).json()["items"]
        if listed:
            return (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{listed[0]['case_id']}")).json()["lead_note"]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no case opened for {household}")


async def test_new_departments_send_their_own_kinds(
    driver: CaseDriver, new_household: NewHousehold, departments: SimulatorClient, settings: Settings
) -> None:
    school, house, water, welfare, other = [await new_household() for _ in range(5)]
    tag = school
    sent = [
        ("education", school, "school_dropout", "opened"),
        ("housing", house, "unsafe_housing", "opened"),
        ("water_resources", water, "water_supply_cut", "opened"),
        ("civil_affairs", welfare, "temporary_assistance", "opened"),
    ]
    for department, household, kind, expected in sent:
        id_number = (await _members(driver, household))[0]["id_number"]
        outcomes = await _outcomes(departments, settings, department, [_warning(f"{tag}-{kind}", id_number, kind)])
        assert [o["outcome"] for o in outcomes] == [expected], (department, outcomes)
    assert "教育部门预警：学生辍学" in await _case_channel(driver, school)
    assert "水利部门预警：供水中断" in await _case_channel(driver, water)

    # A kind belongs to its department; the six kinds of INTERFACES.md still come from any department.
    id_number = (await _members(driver, other))[0]["id_number"]
    outcomes = await _outcomes(
        departments,
        settings,
        "medical_insurance",
        [
            _warning(f"{tag}-wrong", id_number, "school_dropout"),
            _warning(f"{tag}-old", id_number, "accident"),
        ],
    )
    assert outcomes[0]["outcome"] == "invalid" and "教育" in outcomes[0]["reason"]
    assert outcomes[1]["outcome"] == "opened"
    assert "意外事故" in await _case_channel(driver, other)  # the case is open: the next warning joins it
    also_old = await _outcomes(departments, settings, "education", [_warning(f"{tag}-old2", id_number, "other")])
    assert also_old[0]["outcome"] == "joined"


async def test_flags_make_a_household_low_income(
    driver: CaseDriver, new_household: NewHousehold, departments: SimulatorClient, settings: Settings
) -> None:
    flagged = {
        "formerly_poor": {"formerly_poor": True, "poverty_exit_year": 2018},
        "minimum_living_allowance": {"minimum_living_allowance": True},
        "extreme_poverty_support": {"extreme_poverty_support": True},
    }
    plain = await new_household()
    households = {name: await new_household() for name in flagged}
    for name, flags in flagged.items():
        answer = await driver.http.patch(
            f"/api/v1/households/{households[name]}/flags",
            json=flags | {"reason": "名册"},
            headers=await driver.headers(TOWNSHIP_APPROVER),
        )
        assert answer.status_code == 200, answer.text
    warnings = [
        _warning(f"{plain}-{name}", (await _members(driver, code))[0]["id_number"], "medical_expense", 12000.0)
        for name, code in [("plain", plain), *households.items()]
    ]
    outcomes = await _outcomes(departments, settings, "medical_insurance", warnings)
    # 12,000 yuan: under the 26,000 of others, over the 10,000 of low-income people.
    assert [o["outcome"] for o in outcomes] == ["below_threshold", "opened", "opened", "opened"]


async def test_a_member_who_left_is_no_longer_the_households(
    driver: CaseDriver, new_household: NewHousehold, departments: SimulatorClient, settings: Settings
) -> None:
    code = await new_household()
    _head, spouse = await _members(driver, code)
    left = await driver.post(
        VILLAGE_CADRE,
        f"/api/v1/households/{code}/member-changes",
        {"kind": "move_out", "occurred_on": "2025-03-01", "reason": "迁往外省", "member_id": spouse["member_id"]},
    )
    assert left.status_code == 201, left.text
    outcomes = await _outcomes(
        departments, settings, "housing", [_warning(f"{code}-gone", spouse["id_number"], "unsafe_housing")]
    )
    assert outcomes[0]["outcome"] == "unknown_person"


async def test_the_cross_check_asks_about_the_members_as_they_are_now(
    driver: CaseDriver, new_household: NewHousehold, departments: SimulatorClient
) -> None:
    code = await new_household()
    head, spouse = await _members(driver, code)
    died = await driver.post(
        VILLAGE_CADRE,
        f"/api/v1/households/{code}/member-changes",
        {"kind": "death", "occurred_on": "2025-03-01", "reason": "病故", "member_id": spouse["member_id"]},
    )
    assert died.status_code == 201, died.text
    case = await authorised_case(driver, code)
    request_id = case["cross_check"]["requests"]["vehicles"]["request_id"]
    for _ in range(100):
        received = [r for r in (await departments.inspect("vehicles"))["received"] if r["request_id"] == request_id]
        if received:
            break
        await asyncio.sleep(0.1)
    assert [r["subjects"] for r in received] == [1], "only the head is a member now"
    case = await driver.wait_for_cross_check(case["case_id"])
    assert [m["id_number"] for m in case["findings_by_member"]] == [head["id_number"]]
