"""The exit (风险消除) after its proposal, clicked through in a real browser at 360 px by the roles
of each step: the village's home verification (a refusal beside its field first) and democratic
review, an objection filed and resolved during the notice, the township's review and the county's
decision. Six good months pass in seconds: a time-skipping Temporal server of the test's own,
with a worker and the API on it, served over HTTP for the browser."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta

from playwright.async_api import Browser, Page, expect

from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE
from services.demo_data import DEMO_PASSWORD
from services.demo_monitoring import SUPPORT_PERSON, MonitoringDriver, delivery, visit
from services.devstack.servers import free_port
from services.domain.months import add_months
from services.settings import Settings
from tests.conftest import serving_api, time_skipping_api
from tests.monitoring.conftest import Months
from tests.web.conftest import PHONE, fill_review, fits_phone

ALL_SECURED = ("food_and_clothing", "compulsory_education", "basic_medical_care", "safe_housing", "safe_drinking_water")


@asynccontextmanager
async def months_with_pages(settings: Settings) -> AsyncIterator[tuple[Months, str]]:
    """A time-skipping server with a worker, an in-process API for the test's own steps, and the
    same service over HTTP on a port of its own for the browser."""
    queue = "exit-pages-time-skipping"
    pages = settings.model_copy(
        update={"temporal_task_queue": queue, "public_base_url": f"http://127.0.0.1:{free_port()}"}
    )
    async with time_skipping_api(settings, queue) as (env, cases), serving_api(pages, env.client):
        yield Months(env, MonitoringDriver(cases)), pages.public_base_url


async def eligible_for_exit(months: Months) -> str:
    """A monitored household with its plan delivered and six months of good visits: its period's id."""
    (period,) = await months.monitored(None)
    monitoring_id = period["monitoring_id"]
    period = await months.driver.support_with_plan(monitoring_id)
    measure = period["plans"][-1]["measures"][0]
    await months.driver.act(
        SUPPORT_PERSON, monitoring_id, f"measures/{measure['measure_id']}/delivery", delivery(await months.today())
    )
    for _month in range(6):
        period = await months.driver.act(VILLAGE_CADRE, monitoring_id, "visits", visit(await months.today()))
        await months.into_next_period(period)
    started = period["clock_started_at"]
    await months.skip_to(add_months(datetime.fromisoformat(started), 6) + timedelta(hours=1))
    period = await months.driver.wait_for(monitoring_id, lambda p: p["assessment"]["eligible"])
    assert period["assessment"]["eligible"], period["assessment"]
    return monitoring_id


async def open_form(page: Page, form: str) -> None:
    """Unfolds the form's card unless the page drew it open (the step's own form)."""
    if await page.locator(form).get_attribute("open") is None:
        await page.click(f"{form} summary")


async def fill_exit_verification(page: Page, on: date) -> None:
    form = "#action-verify_exit"
    await open_form(page, form)
    await page.fill(f"{form} [name=visited_on]", on.isoformat())
    await page.fill(f"{form} [name=verifiers]", "张村干部\n刘网格员")
    await page.fill(f"{form} [name=household_size]", "4")
    for name, value in (("wage", "30000"), ("business_net", "8000"), ("property_income", "0"), ("transfer", "4200")):
        await page.fill(f"{form} [name='income.{name}']", value)
    await page.fill(f"{form} [name=compliant_spending]", "2000")
    for secured in ALL_SECURED:
        await page.check(f"{form} [name='living_conditions.{secured}']")
    await page.check(f"{form} [name=labour_capacity][value=partial]")
    await page.fill(f"{form} [name=able_workers]", "2")
    await page.check(f"{form} [name=expenses_resolved]")


async def fill_exit_review(page: Page, on: date) -> None:
    form = "#action-review_exit"
    await open_form(page, form)
    await page.fill(f"{form} [name=held_on]", on.isoformat())
    await fill_review(page, form)


async def submit(page: Page, form: str) -> None:
    """Posts the form and waits for the page that answers it (a busy machine's update takes a while)."""
    async with page.expect_navigation(timeout=60_000):
        await page.click(f"{form} button[type=submit]")


async def test_the_exit_steps_after_the_proposal_through_the_pages(
    browser: Browser, settings: Settings, live_api: object
) -> None:
    # `live_api`: the departments answer the identification's cross-check through it.
    async with months_with_pages(settings) as (months, base_url):
        monitoring_id = await eligible_for_exit(months)
        await months.driver.act(SUPPORT_PERSON, monitoring_id, "exit/proposal", {"notes": "收入稳定超过监测标准"})
        url = f"/monitoring/{monitoring_id}"
        signed_in = await _signer(browser, base_url)
        today = await months.today()

        # The village: home verification (first without the household size: refused beside it), then review.
        cadre = await signed_in(VILLAGE_CADRE, url)
        await expect(cadre.locator("#exit-step")).to_contain_text("入户核实")
        await fill_exit_verification(cadre, today)
        await cadre.fill("#action-verify_exit [name=household_size]", "")
        await submit(cadre, "#action-verify_exit")
        await expect(cadre.locator("#action-verify_exit .error[data-field=household_size]")).to_contain_text("必填")
        await expect(cadre.locator("#exit-step")).to_contain_text("入户核实")  # nothing recorded
        await fits_phone(cadre, "monitoring-exit-verification-refused")
        await cadre.fill("#action-verify_exit [name=household_size]", "4")
        await submit(cadre, "#action-verify_exit")
        await expect(cadre.locator("#exit-step")).to_contain_text("民主评议")
        await fill_exit_review(cadre, today)
        await fits_phone(cadre, "monitoring-exit-review")
        await submit(cadre, "#action-review_exit")
        await expect(cadre.locator("#exit-step")).to_contain_text("村级公示")

        # An objection during the notice holds it until the village resolves it on the page.
        await open_form(cadre, "#action-file_exit_objection")
        await cadre.fill("#action-file_exit_objection [name=received_on]", today.isoformat())
        await cadre.fill("#action-file_exit_objection [name=content]", "该户家中新买了一辆小轿车")
        await submit(cadre, "#action-file_exit_objection")
        resolution = "#action-resolve_exit_objection-1"
        await expect(cadre.locator(resolution)).to_have_count(1)
        await months.env.sleep(timedelta(days=5, hours=1))
        period = await months.driver.get(monitoring_id)
        assert period["exits"][-1]["step"] == "village_notice", "a pending objection holds the notice"
        await cadre.reload()
        await open_form(cadre, resolution)
        await cadre.check(f"{resolution} [name=decision][value=dismissed]")
        await cadre.fill(f"{resolution} [name=findings]", "经核实车辆系亲戚借用")
        await fits_phone(cadre, "monitoring-exit-objection")
        await submit(cadre, resolution)
        await months.driver.wait_for(monitoring_id, lambda p: p["exits"][-1]["step"] == "township_review")

        # The township approves; the county decides: the risk is eliminated.
        township = await signed_in(TOWNSHIP_APPROVER, url)
        await expect(township.locator("#exit-step")).to_contain_text("镇审核")
        await open_form(township, "#action-review_exit_in_township")
        await township.check("#action-review_exit_in_township [name=decision][value=approve]")
        await fits_phone(township, "monitoring-exit-township")
        await submit(township, "#action-review_exit_in_township")
        await expect(township.locator("#exit-step")).to_contain_text("县级审定")
        county = await signed_in(COUNTY_OFFICER, url)
        await open_form(county, "#action-decide_exit_in_county")
        await county.check("#action-decide_exit_in_county [name=decision][value=reject]")
        await submit(county, "#action-decide_exit_in_county")  # a rejection needs its opinion
        await expect(county.locator("[role=alert]").first).to_contain_text("不予认定时须填写审定意见")
        await expect(county.locator("#exit-step")).to_contain_text("县级审定")  # nothing decided
        await county.check("#action-decide_exit_in_county [name=decision][value=approve]")
        await submit(county, "#action-decide_exit_in_county")
        await expect(county.locator("#status")).to_contain_text("风险已消除")
        await fits_phone(county, "monitoring-exit-decided")

        period = await months.driver.get(monitoring_id)
        assert (period["status"], period["exits"][-1]["outcome"]) == ("risk_eliminated", "risk_eliminated")
        timeline = (await months.cases.get(COUNTY_OFFICER, f"/api/v1/monitoring/{monitoring_id}/timeline")).json()
        actions = [e["action"] for e in timeline["entries"]]
        for action in (
            "verify_exit",
            "review_exit",
            "file_exit_objection",
            "resolve_exit_objection",
            "review_exit_in_township",
            "decide_exit_in_county",
        ):
            assert actions.count(action) == 1, action
        for page in (cadre, township, county):
            await page.context.close()


async def _signer(browser: Browser, base_url: str) -> Callable[[str, str], Awaitable[Page]]:
    async def signed_in(username: str, path: str) -> Page:
        context = await browser.new_context(viewport=PHONE, base_url=base_url, locale="zh-CN")
        page = await context.new_page()
        await page.goto(f"/login?next={path}")
        await page.fill("#username", username)
        await page.fill("#password", DEMO_PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"**{path}")
        return page

    return signed_in
