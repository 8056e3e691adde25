"""绿色通道（先帮后评）: the township starts support before the identification ends; the steps go on,
and the case and its timeline say so."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from services.demo_case import TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, fast_track, home_verification
from tests.conftest import NewHousehold, case_snapshot

SUDDEN = {
    "income": {"wage": 40000, "business_net": 0, "property_income": 0, "transfer": 0},
    "compliant_spending": 9000,
    "proposed_category": "sudden_hardship",
}


async def test_support_starts_before_the_identification_ends_and_the_steps_go_on(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    case = await driver.act(TOWNSHIP_APPROVER, case_id, "fast-track", fast_track())
    assert case["step"] == "home_verification", "the case stays at its step"
    assert case["fast_track"]["measures"] == ["临时救助3000元", "安排过渡安置住房"]
    assert case["fast_track"]["started_by"] == TOWNSHIP_APPROVER
    case = await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification(**SUDDEN))
    assert case["step"] == "authorisation" and case["fast_track"]["emergency"] == fast_track()["emergency"]
    timeline = (await driver.get(TOWNSHIP_APPROVER, f"/api/v1/cases/{case_id}/timeline")).json()["entries"]
    [entry] = [e for e in timeline if e["action"] == "start_fast_track"]
    assert entry["actor"] == TOWNSHIP_APPROVER and entry["data"]["measures"] == fast_track()["measures"]

    again = await driver.post(TOWNSHIP_APPROVER, f"/api/v1/cases/{case_id}/fast-track", fast_track())
    assert again.status_code == 409 and again.json()["detail"]["code"] == "already_recorded"


async def test_only_the_townships_approver_and_only_for_a_sudden_hardship(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment
) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    path = f"/api/v1/cases/{case_id}/fast-track"
    before = await case_snapshot(driver, temporal.client, case_id)
    assert (await driver.post(VILLAGE_CADRE, path, fast_track())).status_code == 403
    assert (await driver.post("qingyangcha.approver", path, fast_track())).status_code == 404  # another township
    too_early = await driver.post(TOWNSHIP_APPROVER, path, fast_track(await driver.today() - timedelta(days=1)))
    assert too_early.status_code == 422 and too_early.json()["detail"]["errors"][0]["field"] == "started_on"
    no_measure = await driver.post(TOWNSHIP_APPROVER, path, fast_track() | {"measures": []})
    assert no_measure.status_code == 422
    assert await case_snapshot(driver, temporal.client, case_id) == before

    # Verified as a 边缘易致贫户: no sudden severe difficulty, no fast track.
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification())
    before = await case_snapshot(driver, temporal.client, case_id)
    refused = await driver.post(TOWNSHIP_APPROVER, path, fast_track())
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert detail["errors"][0]["field"] == "emergency" and "仅适用于突发严重困难户" in detail["message"]
    assert await case_snapshot(driver, temporal.client, case_id) == before
