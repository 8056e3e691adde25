"""The monitoring page's numbered forms in a real browser at 360 px: the township approver reviews
the support person's plan, the support person records a measure's delivery and attaches a visit
photo; the other support cadres of the village see no delivery form."""

from __future__ import annotations

from playwright.async_api import expect

from services.demo_case import TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, county_today
from services.demo_monitoring import SUPPORT_PERSON, MonitoringDriver
from tests.conftest import NewHousehold
from tests.evidence.files import photo
from tests.web.conftest import SignIn, fits_phone


async def test_plan_review_and_measure_delivery_on_the_monitoring_page(
    sign_in: SignIn, driver: CaseDriver, new_household: NewHousehold
) -> None:
    monitoring = MonitoringDriver(driver)
    await driver.publish_notice_seconds(0.5)
    household = await new_household()
    case_id = await monitoring.to_notice(household)
    await driver.wait_for_step(case_id, "township_review")
    await driver.after_notice(case_id)
    monitoring_id = (await monitoring.period_of(household))["monitoring_id"]
    await monitoring.act(TOWNSHIP_APPROVER, monitoring_id, "support-person", {"username": SUPPORT_PERSON})
    proposed = await driver.get(SUPPORT_PERSON, f"/api/v1/monitoring/{monitoring_id}/proposed-measures")
    measures = [{k: v for k, v in m.items() if k != "kind_label"} for m in proposed.json()["measures"]]
    plan = await monitoring.act(SUPPORT_PERSON, monitoring_id, "plans", {"measures": measures, "notes": "按风险类型"})
    plan_no = plan["plans"][-1]["plan_no"]

    # The township approver reviews the plan on the page; the cadre (not the support person) cannot deliver.
    township = await sign_in(TOWNSHIP_APPROVER)
    await township.goto(f"/monitoring/{monitoring_id}")
    review = f"#action-review_plan-{plan_no}"
    await township.click(f"{review} summary")
    await township.check(f"{review} [name=decision][value=return]")
    await township.click(f"{review} button[type=submit]")
    await expect(township.locator(f"{review} [role=alert]")).to_contain_text("退回时须填写审核意见")  # inside that form
    await township.check(f"{review} [name=decision][value=approve]")
    await township.click(f"{review} button[type=submit]")
    await township.wait_for_url(f"**/monitoring/{monitoring_id}")
    await expect(township.locator("body")).to_contain_text("已批准")
    await expect(township.locator(review)).to_have_count(0)
    cadre = await sign_in(VILLAGE_CADRE)
    await cadre.goto(f"/monitoring/{monitoring_id}")
    await expect(cadre.locator("[id^=action-deliver_measure]")).to_have_count(0)

    # The support person records the first measure's delivery and attaches a photo of it.
    support = await sign_in(SUPPORT_PERSON)
    await support.goto(f"/monitoring/{monitoring_id}")
    deliveries = support.locator("[id^=action-deliver_measure]")
    await expect(deliveries).to_have_count(len(measures))
    first = f"#{await deliveries.first.get_attribute('id')}"
    await support.click(f"{first} summary")
    await support.fill(f"{first} [name=delivered_on]", county_today().isoformat())
    await support.fill(f"{first} [name=evidence]", "医疗救助发放凭证 2026-0917 号")
    await support.click(f"{first} button[type=submit]")
    await support.wait_for_url(f"**/monitoring/{monitoring_id}")
    await expect(support.locator("body")).to_contain_text("已落实")
    await expect(deliveries).to_have_count(len(measures) - 1)
    await fits_phone(support, "monitoring-delivery")

    # An empty file: refused beside the file field of the monitoring page's upload form, nothing kept.
    await support.click("#evidence summary")
    await support.select_option("#evidence-kind", "other")
    await support.set_input_files("#evidence-file", {"name": "空.png", "mimeType": "image/png", "buffer": b""})
    await support.click("#evidence button[type=submit]")
    await expect(support.locator("#evidence .error[data-field=file]")).to_contain_text("文件为空")
    await expect(support.locator("#evidence li a")).to_have_count(0)
    await fits_phone(support, "monitoring-evidence-refused")
    await support.set_input_files(
        "#evidence-file", {"name": "凭证.png", "mimeType": "image/png", "buffer": photo("PNG")}
    )
    await support.click("#evidence button[type=submit]")
    await expect(support.locator("#evidence li a")).to_contain_text("其他材料：凭证.png")
    await fits_phone(support)
    # A forged visit number (a digit Python reads but cannot parse, one past the bound): 422 naming it.
    token = await support.locator("#evidence [name=csrf_token]").input_value()
    for visit_no in ("²", "99999999999", "10001"):
        file = {"name": "另一张.png", "mimeType": "image/png", "buffer": photo("PNG", "blue")}
        forged = await support.request.post(
            f"/monitoring/{monitoring_id}/evidence",
            multipart={"csrf_token": token, "kind": "visit_photo", "visit_no": visit_no, "file": file},
        )
        assert forged.status == 422 and "应为1到10000之间的整数" in await forged.text(), visit_no
    await support.reload()
    await expect(support.locator("#evidence li a")).to_have_count(1)

    # The exit on the page: only the support person is offered the proposal; proposed before six good
    # months, it is refused with the rules' reasons on the page, and no exit starts.
    await expect(cadre.locator("#action-propose_exit")).to_have_count(0)
    await support.click("#action-propose_exit summary")
    await support.click("#action-propose_exit button[type=submit]")
    await expect(support.locator("[role=alert]").first).to_contain_text("尚不符合风险消除条件")
    await expect(support.locator("#exit")).to_have_count(0)
    assert (await monitoring.get(monitoring_id))["exits"] == []
    await fits_phone(support, "monitoring-exit-refused")
