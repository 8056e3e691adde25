"""Eligibility is checked at home verification: the case shows what the figures support, and a
category that differs needs a reason."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from services.demo_case import TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, home_verification
from tests.conftest import NewHousehold, case_snapshot

# 40,000 yuan for four: 10,000 a person, above the default line (7,800); 7,750 after 9,000 of 刚性支出.
SUDDEN = {"income": {"wage": 40000, "business_net": 0, "property_income": 0, "transfer": 0}, "compliant_spending": 9000}


async def test_the_case_shows_the_proposal_beside_the_cadres_category(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    case = await driver.open_case(await new_household())
    case = await driver.act(VILLAGE_CADRE, case["case_id"], "home-verification", home_verification())
    eligibility = case["eligibility"]
    assert eligibility["categories"] == ["marginal"]  # 2,550 a person: inside the range; not a 脱贫户
    assert eligibility["per_capita_income"] == 4800 and eligibility["per_capita_after_spending"] == 2550
    assert "在监测范围内" in eligibility["reasons"][0]
    assert case["verification"]["proposed_category"] == "marginal" and case["verification"]["category_reason"] == ""
    shown = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case['case_id']}")).json()
    assert shown["eligibility"] == eligibility


async def test_a_different_category_without_a_reason_is_422_and_changes_nothing(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment
) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    before = await case_snapshot(driver, temporal.client, case_id)
    answer = await driver.post(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/home-verification", home_verification(**SUDDEN))
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail["code"] == "invalid" and "category_reason" in [e["field"] for e in detail["errors"]]
    assert "与系统测算结果（突发严重困难户）不一致" in detail["message"]
    assert await case_snapshot(driver, temporal.client, case_id) == before

    # The right category needs no reason; another one with the cadres' reason is recorded as they said.
    agreed = await driver.act(
        VILLAGE_CADRE, case_id, "home-verification", home_verification(**SUDDEN, proposed_category="sudden_hardship")
    )
    assert agreed["eligibility"]["category_labels"] == ["突发严重困难户"] and agreed["step"] == "authorisation"


async def test_the_cadres_reason_carries_a_different_category(driver: CaseDriver, new_household: NewHousehold) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    reason = "户主因病失去劳动能力，家庭收入将大幅下降，按边缘易致贫户认定更符合实际"
    case = await driver.act(
        VILLAGE_CADRE, case_id, "home-verification", home_verification(**SUDDEN, category_reason=reason)
    )
    assert case["verification"]["proposed_category"] == "marginal"
    assert case["verification"]["category_reason"] == reason
    assert case["eligibility"]["categories"] == ["sudden_hardship"]


async def test_a_policy_with_a_bad_yearly_line_is_refused(driver: CaseDriver) -> None:
    before = (await driver.get("admin", "/api/v1/policies/current")).json()
    bad = {"income_lines": {"2026": {"monitoring_yuan": 8100, "exit_yuan": 7800}}}
    answer = await driver.post("admin", "/api/v1/policies", bad)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert "不能低于当年监测标准" in detail["message"]
    assert any(e["field"].startswith("income_lines") for e in detail["errors"]), detail
    assert (await driver.get("admin", "/api/v1/policies/current")).json() == before


async def test_a_formerly_poor_household_is_proposed_as_unstable(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    """The register's 脱贫户 flag decides which income category fits: a 脱贫户 inside the range is
    脱贫不稳定户, so proposing 边缘易致贫户 needs the cadres' reason."""
    code = await new_household()
    flagged = await driver.http.patch(
        f"/api/v1/households/{code}/flags",
        json={"formerly_poor": True, "poverty_exit_year": 2019, "reason": "脱贫户名册"},
        headers=await driver.headers(TOWNSHIP_APPROVER),
    )
    assert flagged.status_code == 200, flagged.text
    case_id = (await driver.open_case(code))["case_id"]
    answer = await driver.post(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/home-verification", home_verification())
    assert answer.status_code == 422 and "category_reason" in [e["field"] for e in answer.json()["detail"]["errors"]]
    case = await driver.act(
        VILLAGE_CADRE,
        case_id,
        "home-verification",
        home_verification(proposed_category="unstable_formerly_poor"),
    )
    assert case["eligibility"]["categories"] == ["unstable_formerly_poor"]


async def test_the_case_uses_its_policys_line_for_the_year_of_the_verification(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    """A policy whose line for this year (12,000) is above the default: 10,000 a person is inside the range."""
    in_force = {
        k: v for k, v in (await driver.get("admin", "/api/v1/policies/current")).json().items() if k != "version"
    }
    year = (await driver.today()).year
    lines = {str(year - 1): {"monitoring_yuan": 7800}, str(year): {"monitoring_yuan": 12000, "exit_yuan": 12500}}
    published = await driver.post("admin", "/api/v1/policies", in_force | {"income_lines": lines})
    assert published.status_code == 201, published.text
    try:
        case_id = (await driver.open_case(await new_household()))["case_id"]
    finally:  # later cases keep the policy they had
        assert (await driver.post("admin", "/api/v1/policies", in_force)).status_code == 201
    case = await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification(**SUDDEN))
    assert case["eligibility"]["line"] == {"yuan": 12000, "year": year}
    assert case["eligibility"]["categories"] == ["marginal"]  # not a 脱贫户
