"""Retries with an Idempotency-Key act once; two people on one step: one wins."""

from __future__ import annotations

import asyncio

from temporalio.testing import WorkflowEnvironment

from services.demo_case import (
    SECOND_CADRE,
    TOWNSHIP_APPROVER,
    VILLAGE_CADRE,
    CaseDriver,
    home_verification,
    township_review,
)
from tests.conftest import NewHousehold, case_snapshot


async def _timeline_actions(driver: CaseDriver, case_id: str) -> list[str]:
    entries = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/timeline")).json()["entries"]
    return [e["action"] for e in entries]


async def test_retry_with_the_same_key_returns_the_first_answer(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    path, body = f"/api/v1/cases/{case_id}/home-verification", home_verification()
    first = await driver.post(VILLAGE_CADRE, path, body, **{"Idempotency-Key": "visit-1"})
    again = await driver.post(VILLAGE_CADRE, path, body, **{"Idempotency-Key": "visit-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert (await _timeline_actions(driver, case_id)).count("verify_home") == 1


async def test_concurrent_retries_with_one_key_act_once(driver: CaseDriver, new_household: NewHousehold) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    path, body = f"/api/v1/cases/{case_id}/home-verification", home_verification()
    answers = await asyncio.gather(
        *(driver.post(VILLAGE_CADRE, path, body, **{"Idempotency-Key": "visit-burst"}) for _ in range(5))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["seq"] for a in answers}) == 1
    assert (await _timeline_actions(driver, case_id)).count("verify_home") == 1


async def test_same_key_with_another_body_is_refused(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment
) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    path = f"/api/v1/cases/{case_id}/home-verification"
    await driver.post(VILLAGE_CADRE, path, home_verification(), **{"Idempotency-Key": "visit-2"})
    before = await case_snapshot(driver, temporal.client, case_id)
    other = await driver.post(
        VILLAGE_CADRE, path, home_verification(household_size=6), **{"Idempotency-Key": "visit-2"}
    )
    assert other.status_code == 422
    assert other.json()["detail"]["code"] == "idempotency_key_reused"
    assert await case_snapshot(driver, temporal.client, case_id) == before


async def test_a_refusal_is_replayed_too(driver: CaseDriver, new_household: NewHousehold) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    path = f"/api/v1/cases/{case_id}/township-review"
    first = await driver.post(TOWNSHIP_APPROVER, path, township_review(), **{"Idempotency-Key": "early"})
    again = await driver.post(TOWNSHIP_APPROVER, path, township_review(), **{"Idempotency-Key": "early"})
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json()


async def test_two_cadres_on_one_step_one_wins(driver: CaseDriver, new_household: NewHousehold) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    path = f"/api/v1/cases/{case_id}/home-verification"
    answers = await asyncio.gather(
        driver.post(VILLAGE_CADRE, path, home_verification()),
        driver.post(SECOND_CADRE, path, home_verification(household_size=5)),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert (await _timeline_actions(driver, case_id)).count("verify_home") == 1


async def test_two_approvers_on_one_review_one_wins(driver: CaseDriver, new_household: NewHousehold) -> None:
    await driver.publish_notice_seconds(0.5)
    case = await driver.open_case(await new_household())
    await driver.through_review(case["case_id"])
    await driver.wait_for_step(case["case_id"], "township_review")
    path = f"/api/v1/cases/{case['case_id']}/township-review"
    answers = await asyncio.gather(
        driver.post(TOWNSHIP_APPROVER, path, township_review()),
        driver.post("dongkeng.approver2", path, township_review("return")),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert (await _timeline_actions(driver, case["case_id"])).count("review_in_township") == 1
