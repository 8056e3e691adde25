"""The whole identification procedure through HTTP, and every way it can end early."""

from __future__ import annotations

import asyncio

from services.demo_case import (
    COUNTY_OFFICER,
    TOWNSHIP_APPROVER,
    VILLAGE_CADRE,
    CaseDriver,
    authorisation,
    county_decision,
    democratic_review,
    home_verification,
    objection,
    township_review,
)
from services.domain.identification.forms import DemocraticReview, attendee_refusal
from tests.conftest import NewHousehold
from tests.inbox import inbox_tasks

NOTICE_SECONDS = 2


async def test_lead_to_announcement(driver: CaseDriver, new_household: NewHousehold) -> None:
    policy = await driver.publish_notice_seconds(NOTICE_SECONDS)
    household = await new_household()
    case = await driver.open_case(household)
    assert case["step"] == "home_verification" and case["policy_version"] == policy["version"]
    assert case["step_label"] == "入户核查" and case["channel_label"] == "镇村干部排查"
    # The case is in the read model as soon as the answer comes back.
    listed = (await driver.get(TOWNSHIP_APPROVER, "/api/v1/cases", step="home_verification")).json()["items"]
    assert case["case_id"] in {c["case_id"] for c in listed}

    case = await driver.act(VILLAGE_CADRE, case["case_id"], "home-verification", home_verification())
    assert case["step"] == "authorisation"
    assert case["per_capita_net_income"] == round((12000 + 3000 + 4200 - 9000) / 4, 2)
    case = await driver.act(VILLAGE_CADRE, case["case_id"], "authorisation", authorisation())
    assert case["step"] == "cross_check", "the review waits for the departments' answers"
    case = await driver.wait_for_step(case["case_id"], "democratic_review")
    assert case["cross_check"]["completed_at"] is not None
    review_input = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case['case_id']}/review-input")).json()
    assert review_input["cross_check_complete"] is True and review_input["pending_departments"] == []
    assert {r["status"] for r in case["cross_check"]["requests"].values()} == {"answered"}
    assert set(case["cross_checks"]) == {
        "real_estate",
        "vehicles",
        "market_entities",
        "public_payroll",
        "social_insurance",
    }
    case = await driver.act(VILLAGE_CADRE, case["case_id"], "democratic-review", democratic_review())
    assert case["step"] == "village_notice" and case["review"]["passed"] is True

    case = await driver.wait_for_step(case["case_id"], "township_review")
    assert case["step"] == "township_review", "the notice ends by itself when its time is up"
    case = await driver.after_notice(case["case_id"])
    assert case["step"] == "closed" and case["outcome"] == "monitoring_target"
    assert case["outcome_label"] == "已认定为监测对象"

    record = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{household}")).json()
    assert record["status"] == "risk_not_eliminated" and record["status_label"] == "风险未消除"
    assert record["category"] == "marginal"
    timeline = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case['case_id']}/timeline")).json()["entries"]
    # Each department accepts its request, then answers, the departments in whatever order they come
    # (one that answers before its acceptance reaches the case has no acceptance of its own).
    cross_check = ("cross_check_accepted", "receive_cross_check_result")
    assert [e["action"] for e in timeline if e["action"] not in cross_check] == [
        "open_case",
        "verify_home",
        "record_authorisation",
        "request_cross_check",
        "record_review",
        "end_notice",
        "review_in_township",
        "decide_in_county",
        "announce",
    ]
    for department in ("real_estate", "vehicles", "market_entities", "public_payroll", "social_insurance"):
        entries = [
            e["action"] for e in timeline if e["action"] in cross_check and e["data"]["department"] == department
        ]
        assert entries in (list(cross_check), [cross_check[1]]), (department, entries)
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert {e["actor"] for e in timeline if e["action"] == "receive_cross_check_result"} == {
        "department.real_estate",
        "department.vehicles",
        "department.market_entities",
        "department.public_payroll",
        "department.social_insurance",
    }
    assert timeline[-1]["actor"] == TOWNSHIP_APPROVER and timeline[-1]["role"] == "township_approver"
    assert timeline[1]["data"]["verifiers"] == ["张村干部", "刘网格员"]

    # A closed case lets the household start a new one later.
    again = await driver.open_case(household, channel="platform_analysis")
    assert again["case_id"] != case["case_id"]


async def _to_notice(driver: CaseDriver, household: str) -> str:
    case = await driver.open_case(household)
    await driver.through_review(case["case_id"])
    return case["case_id"]


async def test_refused_authorisation_ends_the_case(driver: CaseDriver, new_household: NewHousehold) -> None:
    case = await driver.open_case(await new_household())
    await driver.act(VILLAGE_CADRE, case["case_id"], "home-verification", home_verification())
    case = await driver.act(VILLAGE_CADRE, case["case_id"], "authorisation", authorisation("refused"))
    assert case["step"] == "closed" and case["outcome"] == "authorisation_refused"


async def _to_review(driver: CaseDriver, household: str) -> str:
    case_id = (await driver.open_case(household))["case_id"]
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification())
    await driver.authorise_and_wait_for_review(case_id)
    return case_id


async def test_failed_vote_ends_the_case(driver: CaseDriver, new_household: NewHousehold) -> None:
    case_id = await _to_review(driver, await new_household())
    case = await driver.act(VILLAGE_CADRE, case_id, "democratic-review", democratic_review(4, 5, 1))
    assert case["step"] == "closed" and case["outcome"] == "review_failed" and case["review"]["passed"] is False


async def test_vote_without_quorum_fails(driver: CaseDriver, new_household: NewHousehold) -> None:
    """7 of 12 attend (< 2/3): unanimous votes still do not pass."""
    case_id = await _to_review(driver, await new_household())
    case = await driver.act(VILLAGE_CADRE, case_id, "democratic-review", democratic_review(7, 0, 0))
    assert case["outcome"] == "review_failed"


async def test_the_review_records_who_took_part_and_the_vote_counts_them(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    case_id = await _to_review(driver, await new_household())
    path = f"/api/v1/cases/{case_id}/democratic-review"
    review = democratic_review(8, 0, 0)  # 8 of 12: quorate (2/3), every attendee counted, roles and all
    bare = review | {"attendees": [a["name"] for a in review["attendees"]]}
    refused = await driver.post(VILLAGE_CADRE, path, bare)
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["detail"]["errors"]] == ["attendees"]
    assert "请填写第1位参会人员的身份" in refused.json()["detail"]["message"]
    officials = [{"name": f"工作队员{i}", "role": "work_team"} for i in range(8)]
    no_representative = await driver.post(VILLAGE_CADRE, path, review | {"attendees": officials})
    assert no_representative.status_code == 422 and "须有村民代表参加" in no_representative.json()["detail"]["message"]
    wrong_role = review | {"attendees": [{"name": "张三", "role": "mayor"}, *review["attendees"][1:]]}
    assert (await driver.post(VILLAGE_CADRE, path, wrong_role)).status_code == 422

    case = await driver.act(VILLAGE_CADRE, case_id, "democratic-review", review)
    assert case["review"]["passed"] is True and case["review"]["attendees"] == review["attendees"]
    roles = {a["role"] for a in case["review"]["attendees"]}
    assert roles == {"village_committee", "first_secretary", "villager_representative"}


def test_reviews_recorded_with_bare_names_still_load() -> None:
    old = democratic_review(8, 0, 0) | {"attendees": [f"代表{i}" for i in range(8)]}
    review = DemocraticReview.model_validate(old)
    assert [a.role for a in review.attendees] == [None] * 8 and review.attendees[0].name == "代表0"
    assert attendee_refusal(review) == "请填写第1位参会人员的身份（村民代表、驻村第一书记、驻村工作队或村两委）"


async def test_upheld_objection_can_end_the_case(driver: CaseDriver, new_household: NewHousehold) -> None:
    await driver.publish_notice_seconds(3600)
    case_id = await _to_notice(driver, await new_household())
    case = await driver.act(VILLAGE_CADRE, case_id, "objections", objection())
    assert case["notice"]["objections"][0]["objection_id"] == 1
    case = await driver.act(
        VILLAGE_CADRE,
        case_id,
        "objections/1/resolution",
        {"decision": "upheld", "upheld_action": "end", "findings": "经核实该户有车辆"},
    )
    assert case["step"] == "closed" and case["outcome"] == "objection_upheld"


async def test_upheld_objection_can_send_the_case_back(driver: CaseDriver, new_household: NewHousehold) -> None:
    await driver.publish_notice_seconds(3600)
    case_id = await _to_notice(driver, await new_household())
    await driver.act(VILLAGE_CADRE, case_id, "objections", objection())
    case = await driver.act(
        VILLAGE_CADRE,
        case_id,
        "objections/1/resolution",
        {"decision": "upheld", "upheld_action": "reverify", "findings": "收入需重新核实"},
    )
    assert case["step"] == "home_verification" and case["verification_round"] == 2
    # Authorisation stays signed: after re-verification the cross-check runs again, a new round.
    first_round = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}")).json()
    assert first_round["cross_check"] is None and first_round["cross_checks"] == {}
    case = await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification(household_size=5))
    assert case["step"] == "cross_check" and case["cross_checks"] == {}
    case = await driver.wait_for_step(case_id, "democratic_review")
    assert case["cross_check"]["round"] == 2 and len(case["cross_checks"]) == 5


async def test_dismissed_objection_holds_the_notice_until_resolved(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    await driver.publish_notice_seconds(NOTICE_SECONDS)
    case_id = await _to_notice(driver, await new_household())
    await driver.act(VILLAGE_CADRE, case_id, "objections", objection())
    await asyncio.sleep(NOTICE_SECONDS + 1.5)
    case = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}")).json()
    assert case["step"] == "village_notice", "a pending objection holds the notice past its days"
    late = await driver.post(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/objections", objection())
    assert late.status_code == 409 and "公示期已满" in late.json()["detail"]["message"]
    await driver.act(
        VILLAGE_CADRE,
        case_id,
        "objections/1/resolution",
        {"decision": "dismissed", "findings": "经核实车辆已于去年报废"},
    )
    case = await driver.wait_for_step(case_id, "township_review")
    assert case["step"] == "township_review"


async def test_only_the_county_rejects(driver: CaseDriver, new_household: NewHousehold) -> None:
    await driver.publish_notice_seconds(1)
    case_id = await _to_notice(driver, await new_household())
    await driver.wait_for_step(case_id, "township_review")
    await driver.act(TOWNSHIP_APPROVER, case_id, "township-review", township_review())
    case = await driver.act(COUNTY_OFFICER, case_id, "county-decision", county_decision("reject"))
    assert case["step"] == "closed" and case["outcome"] == "rejected_by_county"
    assert case["step_due_at"] is None and case["closed_at"] is not None


async def test_a_township_return_sends_the_case_back_for_rework(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    """Returning is not rejecting: the village verifies again with the township's reasons, what was
    recorded stays, the cross-check runs again, and the case can still be approved."""
    await driver.publish_notice_seconds(1)
    case_id = await _to_notice(driver, await new_household())
    first = await driver.wait_for_step(case_id, "township_review")
    case = await driver.act(TOWNSHIP_APPROVER, case_id, "township-review", township_review("return"))
    assert case["step"] == "home_verification" and case["outcome"] is None and case["closed_at"] is None
    assert case["verification_round"] == 2 and case["review"] is None and case["cross_check"] is None
    assert case["verification"] == first["verification"], "the recorded verification stays for the rework"
    [returned] = case["township_returns"]
    assert returned["opinion"] == township_review("return")["opinion"] and returned["returned_by"] == TOWNSHIP_APPROVER
    assert returned["verification_round"] == 1 and returned["review"] == first["review"]
    tasks = await inbox_tasks(driver, VILLAGE_CADRE, case_id)
    assert [t["step"] for t in tasks] == ["home_verification"], "the village has the rework in its inbox"

    # The authorisation stands: the new verification round goes straight to a new cross-check.
    case = await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification(await driver.today()))
    assert case["step"] == "cross_check"
    case = await driver.wait_for_step(case_id, "democratic_review")
    assert case["cross_check"]["round"] == 2 and case["cross_check"]["completed_at"] is not None
    await driver.act(VILLAGE_CADRE, case_id, "democratic-review", democratic_review(on=await driver.today()))
    await driver.wait_for_step(case_id, "township_review")
    case = await driver.after_notice(case_id)
    assert case["outcome"] == "monitoring_target" and len(case["township_returns"]) == 1
    actions = [
        e["action"] for e in (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}/timeline")).json()["entries"]
    ]
    assert actions.count("review_in_township") == 2 and actions.count("verify_home") == 2
