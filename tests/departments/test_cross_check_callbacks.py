"""The cross-check over real HTTP both ways: the service → the department simulator → the live API."""

from __future__ import annotations

import time

from temporalio.testing import WorkflowEnvironment

from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver, cross_check_results, democratic_review
from services.department_simulator.client import SimulatorClient
from services.departments.signing import MAX_CLOCK_SKEW_SECONDS
from services.settings import Settings
from tests.applicants import eventually
from tests.conftest import NewHousehold, case_snapshot
from tests.departments.signed import (
    authorised_case,
    callback_url,
    post_signed,
    query,
    result_body,
    timeline_actions,
)

CAR = {"kind": "vehicle", "description": "小型轿车 1 辆", "value": 1.0}


async def test_fan_out_and_findings_attached_to_members(
    driver: CaseDriver, departments: SimulatorClient, new_household: NewHousehold
) -> None:
    household = await new_household()
    members = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{household}")).json()["members"]
    spouse = members[1]["id_number"]
    await departments.behave("vehicles", findings={spouse: [CAR]}, delay_seconds=0.3)
    case = await authorised_case(driver, household)
    requests = case["cross_check"]["requests"]
    assert set(requests) == {"real_estate", "vehicles", "market_entities", "public_payroll", "social_insurance"}
    assert len({r["request_id"] for r in requests.values()}) == 5

    case = await driver.wait_for_cross_check(case["case_id"])
    assert {r["status"] for r in case["cross_check"]["requests"].values()} == {"answered"}
    by_member = {m["id_number"]: m for m in case["findings_by_member"]}
    assert [m["id_number"] for m in case["findings_by_member"]] == [m["id_number"] for m in members]
    assert by_member[spouse]["name"] == members[1]["name"]
    assert by_member[spouse]["matches"] == [{"department": "vehicles", **CAR}]
    assert by_member[members[0]["id_number"]]["matches"] == []

    # Each department got one signed request naming every member, and answered it once.
    seen = await departments.inspect("vehicles")
    mine = [r for r in seen["received"] if r["request_id"] == requests["vehicles"]["request_id"]]
    assert mine == [{"request_id": requests["vehicles"]["request_id"], "answered": 1, "subjects": len(members)}]
    assert [c["status_code"] for c in seen["callbacks"] if c["request_id"] == mine[0]["request_id"]] == [200]

    # The review's input: members with their findings; masked for a reader who does not act on the household.
    review_input = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case['case_id']}/review-input")).json()
    assert review_input["members"][1]["matches"][0]["description"] == "小型轿车 1 辆"
    assert review_input["members"][1]["id_number"] == spouse
    assert review_input["pending_departments"] == []
    masked = (await driver.get("admin", f"/api/v1/cases/{case['case_id']}/review-input")).json()
    assert masked["members"][1]["id_number"] == spouse[:6] + "********" + spouse[-4:]
    assert spouse not in str((await driver.get("admin", f"/api/v1/cases/{case['case_id']}")).json())

    case = await driver.act(VILLAGE_CADRE, case["case_id"], "democratic-review", democratic_review())
    assert case["review"]["cross_check_pending"] == []


async def _refused_without_change(
    driver: CaseDriver,
    temporal: WorkflowEnvironment,
    settings: Settings,
    case_id: str,
    request_id: str,
    answer_status: int,
) -> None:
    assert answer_status == 401
    inbox = await query(settings, "SELECT 1 FROM cross_check_callbacks WHERE request_id = :r", r=request_id)
    assert inbox == []
    case = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}")).json()
    assert "market_entities" not in case["cross_checks"]


async def test_bad_signatures_are_401_and_change_nothing(
    driver: CaseDriver,
    departments: SimulatorClient,
    new_household: NewHousehold,
    temporal: WorkflowEnvironment,
    settings: Settings,
) -> None:
    await departments.behave("market_entities", silent=True)
    case = await authorised_case(driver, await new_household())
    case_id = case["case_id"]
    request_id = case["cross_check"]["requests"]["market_entities"]["request_id"]
    # Quiet: the other four answered, and the silent one's acceptance is recorded.
    await driver.wait_for(
        case_id,
        lambda c: (
            len(c["cross_checks"]) == 4 and c["cross_check"]["requests"]["market_entities"]["status"] == "awaiting"
        ),
    )
    before = await case_snapshot(driver, temporal.client, case_id)
    url, body = callback_url(settings, request_id), result_body(request_id, "market_entities")

    wrong_secret = await post_signed(url, body, secret="not-the-market-entities-secret-0123456789")
    stale = await post_signed(url, body, "market_entities", now=time.time() - MAX_CLOCK_SKEW_SECONDS - 5)
    future = await post_signed(url, body, "market_entities", now=time.time() + MAX_CLOCK_SKEW_SECONDS + 5)
    other_department = await post_signed(url, body, "vehicles")
    for answer in (wrong_secret, stale, future, other_department):
        assert answer.json()["detail"]["code"] == "signature_invalid"
        await _refused_without_change(driver, temporal, settings, case_id, request_id, answer.status_code)
    assert await case_snapshot(driver, temporal.client, case_id) == before

    # Not overdue yet: nothing to re-send.
    resent = await driver.post(
        COUNTY_OFFICER, f"/api/v1/cases/{case_id}/cross-check-resends", {"department": "market_entities"}
    )
    assert resent.status_code == 409 and resent.json()["detail"]["code"] == "not_overdue"
    # A signed body that does not match the contract: 422 naming the field, nothing stored.
    malformed = await post_signed(url, body | {"status": "maybe"}, "market_entities")
    assert malformed.status_code == 422 and malformed.json()["detail"]["errors"][0]["field"] == "status"
    mismatched = await post_signed(url, body | {"request_id": "another"}, "market_entities")
    assert mismatched.status_code == 422 and mismatched.json()["detail"]["errors"][0]["field"] == "request_id"
    assert await case_snapshot(driver, temporal.client, case_id) == before

    answer = await post_signed(url, body, "market_entities")
    assert answer.status_code == 200 and answer.json()["status"] == "recorded"
    case = await driver.wait_for_cross_check(case_id)
    assert case["cross_check"]["requests"]["market_entities"]["status"] == "answered"


async def test_simulator_callbacks_with_wrong_signatures_are_refused(
    driver: CaseDriver, departments: SimulatorClient, new_household: NewHousehold
) -> None:
    await departments.behave("real_estate", callback_signature="wrong_secret")
    await departments.behave("vehicles", callback_signature="stale_timestamp")
    await departments.behave("public_payroll", sign_as="social_insurance")
    case = await authorised_case(driver, await new_household())
    case = await driver.wait_for(case["case_id"], lambda c: len(c["cross_checks"]) == 2)
    assert set(case["cross_checks"]) == {"market_entities", "social_insurance"}
    for department in ("real_estate", "vehicles", "public_payroll"):
        request_id = case["cross_check"]["requests"][department]["request_id"]
        sent = [c for c in (await departments.inspect(department))["callbacks"] if c["request_id"] == request_id]
        assert [c["status_code"] for c in sent] == [401], department
        assert case["cross_check"]["requests"][department]["status"] in ("sending", "awaiting")


async def test_duplicate_callbacks_change_nothing(
    driver: CaseDriver, departments: SimulatorClient, new_household: NewHousehold, settings: Settings
) -> None:
    await departments.behave("social_insurance", callback_copies=3)
    case = await authorised_case(driver, await new_household())
    case = await driver.wait_for_cross_check(case["case_id"])
    request_id = case["cross_check"]["requests"]["social_insurance"]["request_id"]
    sent = [
        c["status_code"]
        for c in (await departments.inspect("social_insurance"))["callbacks"]
        if c["request_id"] == request_id
    ]
    assert sent == [200, 200, 200]
    # The timeline is written by the case's recording activities, which may trail its state by a moment.
    actions = await eventually(
        lambda: timeline_actions(driver, case["case_id"]), lambda a: a.count("receive_cross_check_result") >= 5
    )
    assert actions.count("receive_cross_check_result") == 5
    # After the case has the result, a repeat is still 200, and a different result 409.
    recorded = {"request_id": request_id, **case["cross_checks"]["social_insurance"]}
    again = await post_signed(callback_url(settings, request_id), recorded, "social_insurance")
    assert again.status_code == 200 and again.json()["status"] == "repeat"
    other = await post_signed(
        callback_url(settings, request_id), result_body(request_id, "social_insurance"), "social_insurance"
    )
    assert other.status_code == 409 and other.json()["detail"]["code"] == "already_answered"
    # The timeline is written by the case's recording activities, which may trail its state by a moment.
    actions = await eventually(
        lambda: timeline_actions(driver, case["case_id"]), lambda a: a.count("receive_cross_check_result") >= 5
    )
    assert actions.count("receive_cross_check_result") == 5


async def test_unknown_request_is_404(driver: CaseDriver, settings: Settings) -> None:
    answer = await post_signed(
        callback_url(settings, "no-such-request"), result_body("no-such-request", "vehicles"), "vehicles"
    )
    assert answer.status_code == 404
    unsigned = await driver.http.post("/api/v1/callbacks/cross-checks/no-such-request", json={})
    assert unsigned.status_code == 401


async def test_without_a_department_secret_no_request_can_be_told_apart(
    driver: CaseDriver, new_household: NewHousehold, settings: Settings
) -> None:
    """A bad signature answers 401 whether or not the request exists, so guessing ids reveals nothing."""
    real = (await authorised_case(driver, await new_household()))["cross_check"]["requests"]["vehicles"]["request_id"]
    answers = [
        await post_signed(callback_url(settings, request_id), result_body(request_id, "vehicles"), secret="guessed")
        for request_id in (real, "no-such-request", "x" * 65)
    ]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert answers[0].json() == answers[1].json() == answers[2].json()


async def test_result_for_a_request_that_no_longer_waits_is_409(
    driver: CaseDriver,
    departments: SimulatorClient,
    new_household: NewHousehold,
    settings: Settings,
    temporal: WorkflowEnvironment,
) -> None:
    await departments.behave("public_payroll", silent=True)
    case = await authorised_case(driver, await new_household())
    case_id = case["case_id"]
    request_id = case["cross_check"]["requests"]["public_payroll"]["request_id"]
    # The county officer records it by hand (with a reason): the department's late answer is refused.
    case = await driver.act(COUNTY_OFFICER, case_id, "cross-check-results", cross_check_results(["public_payroll"]))
    assert case["cross_check"]["requests"]["public_payroll"]["status"] == "recorded_by_hand"
    assert case["cross_check"]["requests"]["public_payroll"]["reason"] == "部门逾期未反馈，已线下调取比对结果"
    twice = await driver.post(
        COUNTY_OFFICER, f"/api/v1/cases/{case_id}/cross-check-results", cross_check_results(["public_payroll"])
    )
    assert twice.status_code == 409 and twice.json()["detail"]["code"] == "already_recorded"
    without_reason = await driver.post(
        COUNTY_OFFICER,
        f"/api/v1/cases/{case_id}/cross-check-results",
        cross_check_results(["vehicles"]) | {"reason": ""},
    )
    assert without_reason.status_code == 422
    # The other departments answer on their own: let them, so only the late answer could change anything.
    assert (await driver.wait_for_cross_check(case_id))["cross_check"]["completed_at"] is not None
    before = await case_snapshot(driver, temporal.client, case_id)
    late = await post_signed(
        callback_url(settings, request_id), result_body(request_id, "public_payroll"), "public_payroll"
    )
    assert late.status_code == 409 and late.json()["detail"]["code"] == "not_awaiting"
    assert await case_snapshot(driver, temporal.client, case_id) == before
    assert "record_cross_check" in await timeline_actions(driver, case_id)


async def test_result_for_a_closed_case_is_409(
    driver: CaseDriver, departments: SimulatorClient, new_household: NewHousehold, settings: Settings
) -> None:
    await departments.behave("real_estate", silent=True)
    case = await authorised_case(driver, await new_household())
    request_id = case["cross_check"]["requests"]["real_estate"]["request_id"]
    # The review waits for the department: the county officer records its result by hand; the vote fails.
    await driver.act(COUNTY_OFFICER, case["case_id"], "cross-check-results", cross_check_results(["real_estate"]))
    await driver.wait_for_step(case["case_id"], "democratic_review")
    closed = await driver.act(VILLAGE_CADRE, case["case_id"], "democratic-review", democratic_review(3, 6, 1))
    assert closed["step"] == "closed"
    late = await post_signed(callback_url(settings, request_id), result_body(request_id, "real_estate"), "real_estate")
    assert late.status_code == 409


async def test_department_down_is_retried_with_the_same_request_id(
    driver: CaseDriver, departments: SimulatorClient, new_household: NewHousehold, settings: Settings
) -> None:
    await departments.behave("vehicles", fail_next=2, fail_status=503)
    case = await authorised_case(driver, await new_household())
    # The review waits for the department, which answers on the third try.
    assert case["step"] == "cross_check"
    request_id = case["cross_check"]["requests"]["vehicles"]["request_id"]
    case = await driver.wait_for_cross_check(case["case_id"], timeout=45)
    assert case["cross_check"]["requests"]["vehicles"]["status"] == "answered"
    assert case["step"] == "democratic_review"
    received = [r for r in (await departments.inspect("vehicles"))["received"] if r["request_id"] == request_id]
    assert received == [{"request_id": request_id, "answered": 3, "subjects": 2}], "three tries, one request id"
    [row] = await query(
        settings,
        "SELECT send_attempts, last_send_error, accepted_at FROM cross_check_requests WHERE request_id = :r",
        r=request_id,
    )
    assert row.send_attempts == 3 and row.last_send_error is None and row.accepted_at is not None
