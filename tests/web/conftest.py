"""A real headless browser for the workbench's tests: Debian's Chromium (scripts/test installs
it), driven by Playwright, one browser for the whole session, a 360-pixel-wide phone context per
person, against the live API (fixture `live_api`, with a worker: fixture `driver`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from services.demo_case import CaseDriver
from services.demo_data import DEMO_PASSWORD
from services.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
# Set to a folder (docs/screenshots) to keep a screenshot of each main page the tests pass through.
SCREENSHOTS = os.environ.get("WORKBENCH_SCREENSHOTS")

SignIn = Callable[[str], Awaitable[Page]]


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest_asyncio.fixture
async def sign_in(browser: Browser, settings: Settings, driver: CaseDriver) -> AsyncIterator[SignIn]:
    """Opens a phone-sized browser for a demo account and signs it in through the sign-in page."""
    contexts: list[BrowserContext] = []

    async def signed_in(username: str) -> Page:
        context = await browser.new_context(viewport=PHONE, base_url=settings.public_base_url, locale="zh-CN")
        contexts.append(context)
        page = await context.new_page()
        await page.goto("/login")
        await page.fill("#username", username)
        await page.fill("#password", DEMO_PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/tasks")
        return page

    yield signed_in
    for context in contexts:
        await context.close()


async def fits_phone(page: Page, name: str | None = None) -> None:
    """The page scrolls only up and down at 360 px; with `name`, its screenshot is kept."""
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url}: {widths[0]} px wide on a {widths[1]} px screen"
    if SCREENSHOTS and name:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


async def fill_review(page: Page, form: str) -> None:
    """A democratic review's form (a case's or an exit's): 7 of 9 representatives present, each
    attendee with a role, 6 for and 1 abstaining."""
    await page.fill(f"{form} [name=eligible_representatives]", "9")
    roles = ["village_committee", "first_secretary", "work_team"] + ["villager_representative"] * 4
    for i, role in enumerate(roles):
        await page.fill(f"{form} [name='attendees[{i}].name']", f"评议人{i + 1}")
        await page.select_option(f"{form} [name='attendees[{i}].role']", role)
    await page.fill(f"{form} [name=votes_for]", "6")
    await page.fill(f"{form} [name=votes_against]", "0")
    await page.fill(f"{form} [name=abstentions]", "1")
