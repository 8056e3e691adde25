"""Objections during the notice on the case page, in a real browser at 360 px: the village cadre
files two objections through the page, each gets its own resolution form (field ids unique per
form); a resolution missing its findings or its upheld action is refused beside the field / on top
of that form, nothing changed; one dismissed, the other upheld with re-verification sends the case
back to home verification. Other roles see no resolution form."""

from __future__ import annotations

from playwright.async_api import Page, expect

from services.demo_case import TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, county_today
from services.demo_monitoring import MonitoringDriver
from tests.conftest import NewHousehold
from tests.web.conftest import SignIn, fits_phone


async def _file_objection(page: Page, content: str) -> None:
    form = "#action-file_objection"
    await page.click(f"{form} summary")
    await page.fill(f"{form} [name=received_on]", county_today().isoformat())
    await page.fill(f"{form} [name=content]", content)
    await page.click(f"{form} button[type=submit]")
    await page.wait_for_load_state()


async def test_objections_raised_and_resolved_on_the_case_page(
    sign_in: SignIn, driver: CaseDriver, new_household: NewHousehold
) -> None:
    await driver.publish_notice_seconds(3600)  # the notice stays open while the page works
    case_id = await MonitoringDriver(driver).to_notice(await new_household())
    cadre = await sign_in(VILLAGE_CADRE)
    await cadre.goto(f"/cases/{case_id}")
    await _file_objection(cadre, "该户在县城有门面房出租")
    await _file_objection(cadre, "该户子女在外务工收入未计入")
    await expect(cadre.locator("#objections li")).to_have_count(2)
    first, second = "#action-resolve_objection-1", "#action-resolve_objection-2"
    await expect(cadre.locator("[id^=action-resolve_objection-]")).to_have_count(2)
    ids = await cadre.eval_on_selector_all("[id]", "nodes => nodes.map(n => n.id)")
    assert len(ids) == len(set(ids)), "every id on the page once"
    assert await cadre.locator("#f-resolve_objection-2--findings").count() == 1

    # No findings: refused beside the findings of that form only; the objection stays open.
    await cadre.click(f"{first} summary")
    await cadre.check(f"{first} [name=decision][value=dismissed]")
    await cadre.click(f"{first} button[type=submit]")
    await expect(cadre.locator(f"{first} .error[data-field=findings]")).to_be_visible()
    await expect(cadre.locator(f"{second} .error")).to_have_count(0)
    # Upheld without saying what follows: the form's own rule, on top; still two open objections.
    await cadre.check(f"{first} [name=decision][value=upheld]")
    await cadre.fill(f"{first} [name=findings]", "经核实确有门面房")
    await cadre.click(f"{first} button[type=submit]")
    await expect(cadre.locator(f"{first} [role=alert]").first).to_contain_text("异议成立时须选择处理方式")
    await expect(cadre.locator(f"{first} [name=findings]")).to_have_value("经核实确有门面房")
    assert (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}")).json()["step"] == "village_notice"
    await fits_phone(cadre, "case-objections")

    # The township approver reads the objections but resolves none.
    township = await sign_in(TOWNSHIP_APPROVER)
    await township.goto(f"/cases/{case_id}")
    await expect(township.locator("#objections li")).to_have_count(2)
    await expect(township.locator("[id^=action-resolve_objection-]")).to_have_count(0)

    await cadre.check(f"{first} [name=decision][value=dismissed]")
    await cadre.fill(f"{first} [name=findings]", "门面房为其亲戚所有")
    await cadre.click(f"{first} button[type=submit]")
    await cadre.wait_for_url(f"**/cases/{case_id}")
    await expect(cadre.locator("#objections")).to_contain_text("异议不成立")
    await expect(cadre.locator(first)).to_have_count(0)
    await cadre.click(f"{second} summary")
    await cadre.check(f"{second} [name=decision][value=upheld]")
    await cadre.check(f"{second} [name=upheld_action][value=reverify]")
    await cadre.fill(f"{second} [name=findings]", "务工收入需重新核实")
    await cadre.click(f"{second} button[type=submit]")
    await cadre.wait_for_url(f"**/cases/{case_id}")
    await expect(cadre.locator("#current-step")).to_contain_text("入户核查")
    case = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}")).json()
    assert case["step"] == "home_verification" and case["verification_round"] == 2
