"""Typed answers change no JSON: a case read through its response model is, to the character,
what the action that changed it answered (action answers are not yet passed through a model),
and moments read from PostgreSQL keep the form they always had."""

from __future__ import annotations

from services.demo_case import VILLAGE_CADRE, CaseDriver, home_verification
from tests.conftest import NewHousehold


async def test_a_case_reads_as_its_last_action_answered(driver: CaseDriver, new_household: NewHousehold) -> None:
    opened = await driver.open_case(await new_household())
    acted = await driver.act(VILLAGE_CADRE, opened["case_id"], "home-verification", home_verification())

    read = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{opened['case_id']}")).json()
    assert read == acted
    household_file = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{acted['household_code']}/file")).json()
    assert household_file["cases"] == [acted]


async def test_listed_moments_keep_their_form(driver: CaseDriver, new_household: NewHousehold) -> None:
    opened = await driver.open_case(await new_household())
    listed = (await driver.get(VILLAGE_CADRE, "/api/v1/cases", household_code=opened["household_code"])).json()
    (summary,) = listed["items"]
    assert summary["case_id"] == opened["case_id"]
    assert summary["opened_at"].endswith("+00:00") and summary["due_at"].endswith("+00:00")
    assert opened["opened_at"].endswith("Z"), "the workflow's state keeps pydantic's form"
