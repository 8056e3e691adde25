"""The village notice (村级公示): produced by the service as data and as a printable page, with
names, village, category and notice dates, and no ID numbers, phones or health details."""

from __future__ import annotations

from datetime import date, timedelta

from services.api.registry.schemas import NoticeEntry, VillageNotice
from services.api.registry.village_notice import notice_page
from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver
from tests.conftest import NewHousehold


async def test_notice_shows_only_what_a_notice_may(driver: CaseDriver, new_household: NewHousehold) -> None:
    await driver.post("admin", "/api/v1/policies", {})  # a five-day notice
    code = await new_household()
    household = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{code}")).json()
    case = await driver.open_case(code)
    case = await driver.through_review(case["case_id"])
    assert case["step"] == "village_notice"
    waiting = await driver.open_case(await new_household())  # not on notice yet

    notice = (await driver.get(VILLAGE_CADRE, "/api/v1/villages/610824100201/notice")).json()
    assert notice["title"] == "东坑村防止返贫监测对象识别公示" and notice["village_name"] == "东坑村"
    entry = next(e for e in notice["households"] if e["head_name"] == household["head_name"])
    assert entry == {
        "head_name": household["head_name"],
        "household_size": 4,
        "category": "marginal",
        "category_label": "边缘易致贫户",
        "notice_starts_on": entry["notice_starts_on"],
        "notice_ends_on": entry["notice_ends_on"],
        "cross_checked": True,
    }
    starts = date.fromisoformat(entry["notice_starts_on"])
    assert date.fromisoformat(entry["notice_ends_on"]) - starts in (timedelta(days=5), timedelta(days=6))
    assert waiting["household_code"] not in str(notice)
    page = await driver.http.get(
        "/api/v1/villages/610824100201/notice.html", headers=await driver.headers(VILLAGE_CADRE)
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert household["head_name"] in page.text and "边缘易致贫户" in page.text and "东坑镇人民政府" in page.text
    assert "经入户核查、部门信息比对和村民代表民主评议" in page.text
    for shown in (notice, page.text):
        for member in household["members"]:
            # Not even masked (a masked number ends "*" and its last four; other households' names
            # in the same notice hold digits, so the bare four could be there by chance).
            assert member["id_number"] not in str(shown) and f"*{member['id_number'][-4:]}" not in str(shown)
        assert "13800138000" not in str(shown) and "138****" not in str(shown)
        assert "因病" not in str(shown) and "illness" not in str(shown), "risk types are health details"

    later = (
        await driver.get(
            TOWNSHIP_APPROVER, "/api/v1/villages/610824100201/notice", on=(starts + timedelta(days=30)).isoformat()
        )
    ).json()
    assert household["head_name"] not in {e["head_name"] for e in later["households"]}
    assert (await driver.get(COUNTY_OFFICER, "/api/v1/villages/610824100201/notice")).status_code == 200
    assert (await driver.get("huochangwan.cadre", "/api/v1/villages/610824100201/notice")).status_code == 404
    assert (await driver.get("qingyangcha.approver", "/api/v1/villages/610824100201/notice.html")).status_code == 404
    assert (await driver.get(VILLAGE_CADRE, "/api/v1/villages/610824100000/notice")).status_code == 404
    assert (await driver.get("admin", "/api/v1/villages/610824100201/notice")).status_code == 403


def test_the_printed_notice_claims_no_cross_check_a_review_did_not_have() -> None:
    """A case reviewed before the review waited for the departments (an older case) is marked, and
    the notice's text names the cross-check only when every listed household had it."""

    def entry(name: str, cross_checked: bool) -> NoticeEntry:
        day = date(2026, 12, 1)
        return NoticeEntry(
            head_name=name,
            household_size=3,
            category="marginal",
            category_label="边缘易致贫户",
            notice_starts_on=day,
            notice_ends_on=day + timedelta(days=5),
            cross_checked=cross_checked,
        )

    def page(*entries: NoticeEntry) -> str:
        notice = VillageNotice(
            village_code="610824100201",
            village_name="东坑村",
            on=date(2026, 12, 2),
            title="公示",
            households=list(entries),
        )
        return notice_page(notice, "东坑镇")

    checked = page(entry("张三", True))
    assert "经入户核查、部门信息比对和村民代表民主评议" in checked and "比对待反馈" not in checked
    mixed = page(entry("张三", True), entry("李四", False))
    assert "经入户核查和村民代表民主评议" in mixed and "信息比对结果尚未全部反馈" in mixed
    assert mixed.count("<td>比对待反馈</td>") == 1
