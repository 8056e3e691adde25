"""Evidence and statistics in a real browser at 360 px: a signed 承诺授权书 photographed onto the
case (the file input a phone opens its camera for), a page disguised as a photo refused beside the
file field on the case page, the file read back only inside the area, listed in the household file; the statistics page
with its charts, the rosters' and kept reports' downloads, and its area boundary."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from services.demo_case import CaseDriver, county_today
from tests.conftest import NewHousehold
from tests.evidence.files import DISGUISED_PAGE, photo
from tests.web.conftest import SignIn, fits_phone

CADRE, TOWNSHIP, COUNTY = "dongkeng.cadre", "dongkeng.approver", "county.officer"
OTHER_TOWNSHIP = "qingyangcha.approver"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def attach(page: Page, kind: str, name: str, content: bytes, mime: str = "image/jpeg") -> None:
    await page.click("#evidence summary")
    await page.select_option("#evidence-kind", kind)
    await page.set_input_files("#evidence-file", {"name": name, "mimeType": mime, "buffer": content})
    await page.click("#evidence button[type=submit]")
    await page.wait_for_load_state()


async def test_evidence_photographed_onto_a_case_and_read_inside_the_area(
    sign_in: SignIn, driver: CaseDriver, new_household: NewHousehold
) -> None:
    household = await new_household()
    case_id = (await driver.open_case(household))["case_id"]
    cadre = await sign_in(CADRE)
    await cadre.goto(f"/cases/{case_id}")
    file_input = cadre.locator("#evidence-file")
    assert await file_input.get_attribute("accept") == "image/*,application/pdf"
    assert await file_input.get_attribute("capture") is not None  # a phone offers its camera

    signed = photo()
    await attach(cadre, "commitment", "承诺授权书.jpg", signed)
    listed = cadre.locator("#evidence li a")
    await expect(listed).to_have_count(1)
    await expect(listed).to_contain_text("承诺授权书：承诺授权书.jpg")
    await expect(cadre.locator("#evidence")).to_contain_text("入户核查")
    await fits_phone(cadre, "case-evidence")

    # A page named and declared as a photo: refused by its content beside the file field of the case
    # page's own upload form (the kind chosen still chosen), nothing kept.
    await attach(cadre, "notice_photo", "公示.jpg", DISGUISED_PAGE)
    await expect(cadre.locator("#evidence .error[data-field=file]")).to_contain_text(
        "只能上传JPEG、PNG 图片或 PDF 文件"
    )
    await expect(cadre.locator("#evidence-kind")).to_have_value("notice_photo")
    await expect(cadre.locator("h1")).to_contain_text("户")
    await fits_phone(cadre, "case-evidence-refused")
    await cadre.goto(f"/cases/{case_id}")
    await expect(cadre.locator("#evidence li a")).to_have_count(1)

    link = await listed.get_attribute("href")
    assert link is not None
    read = await cadre.request.get(link)
    assert read.status == 200 and await read.body() == signed
    assert read.headers["content-type"] == "image/jpeg" and read.headers["x-content-type-options"] == "nosniff"
    other = await sign_in(OTHER_TOWNSHIP)
    assert (await other.request.get(link)).status == 404
    assert (await other.request.get(f"/cases/{case_id}")).status == 404

    await cadre.goto(f"/households/{household}")
    await expect(cadre.locator("#evidence li a")).to_have_attribute("href", link)
    await fits_phone(cadre)


async def test_statistics_with_charts_and_the_downloads(sign_in: SignIn, driver: CaseDriver) -> None:
    last_month = county_today().replace(day=1) - timedelta(days=1)
    produced = await driver.post(COUNTY, "/api/v1/reports/kept", {"kind": "monthly", "day": last_month.isoformat()})
    assert produced.status_code == 201, produced.text

    county = await sign_in(COUNTY)
    await county.click("header >> text=统计报表")
    await expect(county.locator("h1")).to_contain_text("靖边县")
    for chart in ("#chart-status", "#chart-category", "#chart-months", "#chart-steps"):
        await expect(county.locator(chart)).to_be_visible()
    bars = await county.locator("#chart-steps rect").count()
    assert bars == await county.locator("#chart-steps text").count() // 2 and bars > 0
    await fits_phone(county, "statistics")
    kept = county.locator("#kept-reports li a", has_text="Excel")
    assert await kept.count() >= 2  # the county's and each township's month
    workbook = await county.request.get(await kept.first.get_attribute("href") or "")
    assert workbook.status == 200 and workbook.headers["content-type"].startswith(XLSX)
    printed = await county.request.get(
        await county.locator("#kept-reports li a", has_text="打印").first.get_attribute("href") or ""
    )
    assert printed.status == 200 and "月报" in await printed.text()

    # One township, chosen on the page; its roster downloads as Excel.
    await county.select_option("#area", label="东坑镇")
    await county.click("form[action='/statistics'] button[type=submit]")
    await expect(county.locator("h1")).to_contain_text("东坑镇")
    roster = await county.request.get(await county.locator("#rosters a").first.get_attribute("href") or "")
    assert roster.status == 200 and roster.headers["content-type"].startswith(XLSX)

    # A township approver: the own township only, by typed URL too.
    township = await sign_in(TOWNSHIP)
    await township.goto("/statistics")
    await expect(township.locator("h1")).to_contain_text("东坑镇")
    assert (await township.request.get("/statistics?area=610824000000")).status == 403
    assert (await township.request.get("/reports/rosters/cases.xlsx?area=610824000000")).status == 403
