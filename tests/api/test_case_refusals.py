"""Refused actions — wrong step, wrong role, wrong area, malformed — answer clearly and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from services.demo_case import (
    COUNTY_OFFICER,
    TOWNSHIP_APPROVER,
    VILLAGE_CADRE,
    CaseDriver,
    authorisation,
    county_decision,
    democratic_review,
    home_verification,
    township_review,
)
from tests.conftest import NewHousehold, case_snapshot


@pytest.fixture
async def case_id(driver: CaseDriver, new_household: NewHousehold) -> str:
    return (await driver.open_case(await new_household()))["case_id"]


async def test_action_at_the_wrong_step_is_409_naming_the_step(
    driver: CaseDriver, temporal: WorkflowEnvironment, case_id: str
) -> None:
    before = await case_snapshot(driver, temporal.client, case_id)
    for who, path, body in [
        (TOWNSHIP_APPROVER, "township-review", township_review()),
        (COUNTY_OFFICER, "county-decision", county_decision()),
        (VILLAGE_CADRE, "democratic-review", democratic_review()),
        (VILLAGE_CADRE, "authorisation", authorisation()),
    ]:
        answer = await driver.post(who, f"/api/v1/cases/{case_id}/{path}", body)
        assert answer.status_code == 409, (path, answer.text)
        detail = answer.json()["detail"]
        assert detail["code"] == "wrong_step" and detail["current_step"] == "home_verification"
        assert "「入户核查」" in detail["message"]
    assert await case_snapshot(driver, temporal.client, case_id) == before


async def test_action_by_the_wrong_role_is_403(driver: CaseDriver, temporal: WorkflowEnvironment, case_id: str) -> None:
    before = await case_snapshot(driver, temporal.client, case_id)
    for who in (TOWNSHIP_APPROVER, COUNTY_OFFICER, "admin"):
        answer = await driver.post(who, f"/api/v1/cases/{case_id}/home-verification", home_verification())
        assert answer.status_code == 403
        assert "村干部" in answer.json()["detail"]["message"]
    assert await case_snapshot(driver, temporal.client, case_id) == before


async def test_action_outside_ones_area_is_404(driver: CaseDriver, temporal: WorkflowEnvironment, case_id: str) -> None:
    before = await case_snapshot(driver, temporal.client, case_id)
    for who in ("huochangwan.cadre", "qingyangcha.cadre"):
        answer = await driver.post(who, f"/api/v1/cases/{case_id}/home-verification", home_verification())
        assert answer.status_code == 404
        assert (await driver.get(who, f"/api/v1/cases/{case_id}")).status_code == 404
    other_township = await driver.post(
        "qingyangcha.approver", f"/api/v1/cases/{case_id}/township-review", township_review()
    )
    assert other_township.status_code == 404
    assert await case_snapshot(driver, temporal.client, case_id) == before


MALFORMED: list[tuple[str, Any, str, str]] = [
    ("missing field", home_verification() | {"income": None}, "income", "格式不正确"),
    ("wrong type", home_verification(household_size="四口人"), "household_size", "应为整数"),
    ("over-long field", home_verification(notes="很" * 2001), "notes", "不能超过2000个字符"),
    ("unknown risk type", home_verification(risk_types=["laziness"]), "risk_types[0]", "取值无效"),
    ("one verifier", home_verification(verifiers=["张村干部"]), "verifiers", "至少需要2名核查人员"),
    ("negative income", home_verification(compliant_spending=-5), "compliant_spending", "不能小于0"),
    ("bad date", home_verification(visited_on="昨天"), "visited_on", "应为日期"),
    ("inconsistent labour", home_verification(able_workers=0), "home_verification", "劳动能力"),
    ("unknown field", home_verification(hobby="fishing"), "hobby", "不认识的字段"),
]


@pytest.mark.parametrize(("label", "body", "field", "words"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_malformed_payload_is_422_naming_the_field(
    driver: CaseDriver, temporal: WorkflowEnvironment, case_id: str, label: str, body: Any, field: str, words: str
) -> None:
    before = await case_snapshot(driver, temporal.client, case_id)
    answer = await driver.post(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/home-verification", body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail["code"] == "invalid"
    assert words in detail["message"], detail
    if field != "home_verification":
        assert field in [e["field"] for e in detail["errors"]], detail
    assert await case_snapshot(driver, temporal.client, case_id) == before


async def test_body_that_is_not_json_is_422(driver: CaseDriver, case_id: str) -> None:
    answer = await driver.http.post(
        f"/api/v1/cases/{case_id}/home-verification",
        content=b"{not json",
        headers=await driver.headers(VILLAGE_CADRE) | {"Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert "JSON" in answer.json()["detail"]["message"]


async def test_vote_counts_must_add_up(driver: CaseDriver, case_id: str) -> None:
    answer = await driver.post(
        VILLAGE_CADRE, f"/api/v1/cases/{case_id}/democratic-review", democratic_review() | {"votes_for": 3}
    )
    assert answer.status_code == 422
    assert "票数之和应等于实到人数" in answer.json()["detail"]["message"]


async def test_unknown_case_is_404(driver: CaseDriver) -> None:
    answer = await driver.post(VILLAGE_CADRE, "/api/v1/cases/nope/home-verification", home_verification())
    assert answer.status_code == 404
