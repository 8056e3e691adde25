"""The workbench in a real browser: a case carried from lead to announcement through the pages by
the three roles, a refusal beside its field, a double-clicked submit acting once, the inbox's
claim and release, area and role boundaries by typed URL, CSRF, and every page at 360 px."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Page, expect

from services.demo_case import CaseDriver
from services.demo_data import DEMO_PASSWORD
from tests.applicants import Household as ApplyingHousehold
from tests.applicants import SmsLog, application_form, mini, unregistered_head  # noqa: F401 (fixture)
from tests.conftest import NewHousehold
from tests.departments.signed import timeline_actions
from tests.web.conftest import SignIn, fill_review, fits_phone

CADRE, TOWNSHIP, COUNTY = "dongkeng.cadre", "dongkeng.approver", "county.officer"
OTHER_TOWNSHIP = "qingyangcha.approver"


async def submit(page: Page, action: str) -> None:
    await page.click(f"#action-{action} button[type=submit]")
    await page.wait_for_load_state()


async def reload_until_step(page: Page, label: str, timeout: float = 40) -> None:
    """The case page, reloaded until its current step is `label` (departments and the notice's timer
    move the case on by themselves)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (await page.inner_text("#current-step")).startswith(label):
        assert asyncio.get_running_loop().time() < deadline, await page.inner_text("#current-step")
        await asyncio.sleep(0.5)
        await page.reload()


async def fill_home_verification(page: Page, category: str) -> None:
    form = "#action-verify_home"
    await page.fill(f"{form} [name=verifiers]", "张村干部\n刘网格员")
    await page.fill(f"{form} [name=household_size]", "4")
    for name, value in (("wage", "12000"), ("business_net", "3000"), ("property_income", "0"), ("transfer", "4200")):
        await page.fill(f"{form} [name='income.{name}']", value)
    await page.fill(f"{form} [name=compliant_spending]", "9000")
    for secured in ("food_and_clothing", "compulsory_education", "safe_housing", "safe_drinking_water"):
        await page.check(f"{form} [name='living_conditions.{secured}']")
    await page.check(f"{form} [name=labour_capacity][value=partial]")
    await page.fill(f"{form} [name=able_workers]", "2")
    await page.check(f"{form} [name=risk_types][value=illness]")
    await page.check(f"{form} [name=proposed_category][value={category}]")


async def test_a_case_from_lead_to_announcement_through_the_pages(
    sign_in: SignIn, driver: CaseDriver, departments: Any, new_household: NewHousehold
) -> None:
    await driver.publish_notice_seconds(2)
    household = await new_household()
    cadre = await sign_in(CADRE)
    await fits_phone(cadre, "tasks")

    # The lead: the village cadre opens the household's case.
    await cadre.goto(f"/cases/new?household_code={household}")
    await fits_phone(cadre, "new-lead")
    await cadre.fill("[name=lead_note]", "户主因病住院，家庭收入下降")
    await cadre.click("form.once button[type=submit]")
    await cadre.wait_for_url("**/cases/*")
    case_id = cadre.url.rsplit("/", 1)[1]
    await expect(cadre.locator("#current-step")).to_contain_text("入户核查")

    # A refusal beside its field: a category the figures do not support, without a reason.
    await fill_home_verification(cadre, "sudden_hardship")
    await fits_phone(cadre, "case-home-verification")
    await submit(cadre, "verify_home")
    refusal = cadre.locator(".error[data-field=category_reason]")
    await expect(refusal).to_contain_text("不一致")
    await fits_phone(cadre, "case-refusal-beside-field")
    await expect(cadre.locator("#current-step")).to_contain_text("入户核查")  # nothing recorded

    await fill_home_verification(cadre, "marginal")
    await submit(cadre, "verify_home")
    await expect(cadre.locator("#current-step")).to_contain_text("承诺授权")

    # A double-clicked submit, then the same form sent again (a retry after a lost connection): once.
    await cadre.check("#action-record_authorisation [name=decision][value=signed]")
    await cadre.fill("#action-record_authorisation [name=signer_name]", "户主")
    sent = await cadre.evaluate(
        "new URLSearchParams(new FormData(document.querySelector('#action-record_authorisation form'))).toString()"
    )
    await cadre.dblclick("#action-record_authorisation button[type=submit]")
    await cadre.wait_for_load_state()
    retried = await cadre.request.post(
        f"/cases/{case_id}/actions/record_authorisation",
        data=sent,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        max_redirects=0,
    )
    assert retried.status == 303, await retried.text()
    assert (await timeline_actions(driver, case_id)).count("record_authorisation") == 1

    # The departments answer by themselves (the simulator); then the village's review.
    await reload_until_step(cadre, "民主评议")
    await fill_review(cadre, "#action-record_review")
    await submit(cadre, "record_review")
    await reload_until_step(cadre, "镇审核")  # the notice's seconds run out

    # The township approver finds it in the inbox, claims it there, and approves.
    township = await sign_in(TOWNSHIP)
    row = township.locator("li.task", has=township.locator(f"a[href='/cases/{case_id}']"))
    await row.locator("button", has_text="认领").click()
    await expect(row.locator("button", has_text="释放")).to_be_visible()  # swapped in place by htmx
    await fits_phone(township, "tasks-claimed")
    # A forged version (a digit Python reads but cannot parse, one past the column): 422 naming it, the claim kept.
    release = row.locator("form")
    token = await release.locator("[name=csrf_token]").input_value()
    for version in ("²", "99999999999", "2147483648"):
        forged = await township.request.post(
            str(await release.get_attribute("action")), form={"csrf_token": token, "version": version}
        )
        assert forged.status == 422 and "应为1到2147483647之间的整数" in await forged.text(), version
    await township.reload()
    await expect(row.locator("button", has_text="释放")).to_be_visible()
    await row.locator(f"a[href='/cases/{case_id}']").click()
    await township.check("#action-review_in_township [name=decision][value=approve]")
    await fits_phone(township, "case-township-review")
    await submit(township, "review_in_township")
    await expect(township.locator("#current-step")).to_contain_text("县级审定")

    county = await sign_in(COUNTY)
    await county.goto(f"/cases/{case_id}")
    await county.check("#action-decide_in_county [name=decision][value=approve]")
    await submit(county, "decide_in_county")
    await expect(county.locator("#current-step")).to_contain_text("结果公告")

    await township.reload()
    await submit(township, "announce")
    await expect(township.locator("#current-step")).to_contain_text("已办结")
    await fits_phone(township, "case-announced")
    actions = await timeline_actions(driver, case_id)
    assert [a for a in actions if a in {"review_in_township", "decide_in_county", "announce"}] == [
        "review_in_township",
        "decide_in_county",
        "announce",
    ]
    status = (await driver.get(CADRE, f"/api/v1/households/{household}")).json()["status"]
    assert status == "risk_not_eliminated"

    # The household file lists the case; the county's overdue overview and the notice to print open.
    await cadre.goto(f"/households/{household}")
    await expect(cadre.locator(f"a[href='/cases/{case_id}']")).to_contain_text("镇村干部排查")
    await expect(cadre.locator("#qr svg")).to_be_visible()  # the file's QR code
    await fits_phone(cadre, "household-file")

    # Monitoring starts by itself: the township approver appoints the support person on its page.
    await township.goto(f"/households/{household}")
    period = township.locator("a[href^='/monitoring/']")
    deadline = asyncio.get_running_loop().time() + 20
    while not await period.count():
        assert asyncio.get_running_loop().time() < deadline, "no monitoring period in the household file"
        await asyncio.sleep(0.5)
        await township.reload()
    await period.first.click()
    await township.fill("#action-appoint_support_person [name=username]", "nobody.here")
    await township.click("#action-appoint_support_person button[type=submit]")
    await expect(township.locator(".error[data-field=username]")).to_contain_text("没有这个账号")
    await township.fill("#action-appoint_support_person [name=username]", CADRE)
    await township.click("#action-appoint_support_person button[type=submit]")
    await expect(township.locator("#support-person")).to_contain_text("张村干部")
    await fits_phone(township, "monitoring")
    notice = await cadre.goto(f"/villages/{household[:12]}/notice")
    assert notice is not None and notice.status == 200
    assert "识别公示" in await cadre.content()
    await fits_phone(cadre, "village-notice")
    await county.goto("/overdue")
    await expect(county.locator("h1")).to_contain_text("超期督办")
    await fits_phone(county, "overdue")


async def test_area_and_role_boundaries_by_typed_url(
    sign_in: SignIn, driver: CaseDriver, new_household: NewHousehold
) -> None:
    household = await new_household()
    case_id = (await driver.open_case(household))["case_id"]

    # Another township's approver never sees it, even by typing its address: the API's 404, in Chinese.
    outsider = await sign_in(OTHER_TOWNSHIP)
    answer = await outsider.goto(f"/cases/{case_id}")
    assert answer is not None and answer.status == 404
    await expect(outsider.locator(".notice")).to_contain_text("不在您的管辖区域内")
    assert household not in await outsider.content()
    await fits_phone(outsider, "refusal")

    # The village cadre may read it, but not take the township's step, even by posting its form.
    cadre = await sign_in(CADRE)
    await cadre.goto(f"/cases/{case_id}")
    assert await cadre.locator("#action-review_in_township").count() == 0
    token = await cadre.input_value("#action-verify_home [name=csrf_token]")
    refused = await cadre.request.post(
        f"/cases/{case_id}/actions/review_in_township", form={"csrf_token": token, "decision": "approve"}
    )
    assert refused.status == 403
    assert "只有镇审核人员可以办理此事项" in await refused.text()
    case = (await driver.get(CADRE, f"/api/v1/cases/{case_id}")).json()
    assert case["step"] == "home_verification" and case["township_review"] is None

    # A township approver's overview covers their own township only.
    other = await outsider.goto(f"/overdue?area={household[:9]}000")
    assert other is not None and other.status == 403
    await expect(outsider.locator(".notice")).to_contain_text("超出您的管辖区域")

    # An admin has no inbox.
    admin = await sign_in_page(outsider, "admin")
    answer = await admin.goto("/tasks")
    assert answer is not None and answer.status == 403


async def sign_in_page(page: Page, username: str) -> Page:
    """Signs `page`'s browser out and in again as `username` (the same phone, another person)."""
    await page.context.clear_cookies()
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    return page


async def test_csrf_refused_without_the_token_and_sign_out(
    sign_in: SignIn, driver: CaseDriver, new_household: NewHousehold
) -> None:
    household = await new_household()
    cadre = await sign_in(CADRE)
    cookies = {c["name"]: c for c in await cadre.context.cookies()}
    session = cookies["wb_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax" and not session["secure"]  # served over http

    lead = {"household_code": household, "channel": "cadre_screening", "lead_note": "走访发现"}
    for token in (None, "forged"):
        form = lead if token is None else {**lead, "csrf_token": token}
        refused = await cadre.request.post("/cases/new", form=form)
        assert refused.status == 403
        assert "安全校验未通过" in await refused.text()
    opened = (await driver.get(CADRE, "/api/v1/cases", household_code=household)).json()["items"]
    assert opened == []  # nothing changed
    anonymous = await cadre.context.browser.new_context(base_url=cadre.url.split("/tasks")[0])  # type: ignore[union-attr]
    signing_in = await anonymous.request.post("/login", form={"username": CADRE, "password": DEMO_PASSWORD})
    assert signing_in.status == 403  # the sign-in form too
    await anonymous.close()

    # Signing out ends the session: the pages ask for a sign-in again.
    other_phone = await sign_in(CADRE)  # the same account signed in elsewhere: a session of its own
    copied = await cadre.context.browser.new_context(base_url=cadre.url.split("/tasks")[0])  # type: ignore[union-attr]
    await copied.add_cookies([{k: session[k] for k in ("name", "value", "domain", "path")}])  # type: ignore[misc]
    replay = await copied.new_page()
    await replay.goto("/tasks")
    assert replay.url.endswith("/tasks")  # a copy of the cookie works while the session lasts
    as_bearer = {"Authorization": f"Bearer {session['value']}"}
    assert (await copied.request.get("/api/v1/cases", headers=as_bearer)).status == 200  # and its token in the API
    await cadre.click("header button:has-text('退出')")
    await expect(cadre.locator("h1")).to_contain_text("登录")
    await cadre.goto("/tasks")
    assert cadre.url.endswith("/login?next=/tasks")
    await fits_phone(cadre, "sign-in")
    # After signing out the copy is refused on the server: back to the sign-in page, told why.
    for path in ("/tasks", "/cases/new"):
        await replay.goto(path)
        assert replay.url.endswith(f"/login?next={path}&ended=1"), replay.url
        await expect(replay.locator(".notice")).to_contain_text("登录已失效（您已退出或登录已过期），请重新登录")
    # The API refuses the signed-out token too.
    refused_bearer = await copied.request.get("/api/v1/cases", headers=as_bearer)
    assert refused_bearer.status == 401 and (await refused_bearer.json())["detail"]["code"] == "session_ended"
    await copied.close()
    await other_phone.reload()  # the other session goes on
    assert other_phone.url.endswith("/tasks")
    await expect(other_phone.locator("h1")).not_to_contain_text("登录")


async def test_a_self_report_answered_from_the_inbox(
    sign_in: SignIn, mini: tuple[CaseDriver, SmsLog], driver: CaseDriver
) -> None:
    api, sms = mini
    name, id_number = unregistered_head()
    applicant = await ApplyingHousehold(api.http, sms).sign_in()
    application_id = (await applicant.apply(application_form(name, id_number, applicant.phone)))["application_id"]

    township = await sign_in(TOWNSHIP)
    await township.click(f"a[href='/self-reports/{application_id}']")
    await expect(township.locator("#status")).to_contain_text("等待镇里受理")
    assert id_number not in await township.content()  # masked on the page
    await township.check("#decision [name=decision][value=reject]")
    await township.click("#decision button[type=submit]")
    await expect(township.locator(".notice")).to_contain_text("不予受理时须填写理由")
    await township.fill("#decision [name=reason]", "经核实，您家今年收入稳定，暂不符合监测条件")
    await township.click("#decision button[type=submit]")
    await expect(township.locator("#status")).to_contain_text("未予受理")
    await fits_phone(township, "self-report")
    assert (await applicant.view(application_id))["status"] == "rejected"
