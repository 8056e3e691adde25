"""Documents read back as a reader would: the household file PDF's text extracted (Chinese
included) and its QR code decoded to the link of the household file, which still asks for a
sign-in and the reader's area; the QR code on its own; the printed result announcement and
exit notice with names and categories and no personal data. Every download refused outside
the reader's area or role."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pypdf
import zxingcpp
from PIL import Image
from sqlalchemy import text

from services.db.engine import create_engine
from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, county_today
from services.settings import Settings
from services.web.session import SESSION_COOKIE
from tests.conftest import NewHousehold

OTHER_VILLAGE_CADRE = "huochangwan.cadre"
OTHER_TOWNSHIP = "qingyangcha.approver"
NO_PERSONAL_DATA = "dongkeng.team"  # same village, a role that does not act on cases


def _decoded(image: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(image)]


async def _page_as(driver: CaseDriver, username: str, path: str) -> httpx.Response:
    """A workbench page read with the session cookie of one signed-in account."""
    bearer = (await driver.headers(username))["Authorization"].removeprefix("Bearer ")
    return await driver.http.get(path, headers={"Cookie": f"{SESSION_COOKIE}={bearer}"})


async def test_household_file_pdf_and_its_qr_code(
    driver: CaseDriver, new_household: NewHousehold, settings: Settings, other_county: dict[str, str]
) -> None:
    await driver.publish_notice_seconds(2)
    code = await new_household()
    household = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{code}")).json()
    case = await driver.through_review((await driver.open_case(code))["case_id"])
    await driver.wait_for_step(case["case_id"], "township_review")
    case = await driver.after_notice(case["case_id"])
    assert case["outcome"] == "monitoring_target", case["outcome"]

    answer = await driver.get(VILLAGE_CADRE, f"/api/v1/households/{code}/file.pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    pdf = pypdf.PdfReader(io.BytesIO(answer.content))
    words = "".join(page.extract_text() for page in pdf.pages)
    for shown in (
        "一户一档",
        household["head_name"],
        "东坑村",
        "风险未消除",
        "边缘易致贫户",
        "镇村干部排查",
        "家庭成员",
    ):
        assert shown in words, shown
    for member in household["members"]:  # the cadre acts on the household: ID numbers in full
        assert member["name"] in words and member["id_number"] in words, words
    embedded = pdf.pages[0].images[0].image
    assert embedded is not None
    link = _decoded(embedded)
    assert link == [f"{settings.public_base_url.rstrip('/')}/households/{code}"]

    # The code links to the household's page in the workbench (a phone scanning it lands there):
    # sign in first, and only inside one's area.
    png = await driver.get(TOWNSHIP_APPROVER, f"/api/v1/households/{code}/qr.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert _decoded(Image.open(io.BytesIO(png.content))) == link
    path = urlsplit(link[0]).path
    anonymous = await driver.http.get(path)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login"), anonymous
    assert (await _page_as(driver, OTHER_VILLAGE_CADRE, path)).status_code == 404
    followed = await _page_as(driver, VILLAGE_CADRE, path)
    assert followed.status_code == 200 and household["head_name"] in followed.text

    svg = await driver.get(COUNTY_OFFICER, f"/api/v1/households/{code}/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content and code.encode() not in svg.content, "the code, not the text, carries the link"

    # A reader who does not act on cases gets the file with ID numbers and phone masked.
    masked = await driver.get(NO_PERSONAL_DATA, f"/api/v1/households/{code}/file.pdf")
    masked_words = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(masked.content)).pages)
    assert household["head_name"] in masked_words
    for member in household["members"]:
        assert member["id_number"] not in masked_words and member["id_number"][-4:] in masked_words
    assert "13800138000" not in masked_words

    for reader in (OTHER_VILLAGE_CADRE, OTHER_TOWNSHIP, other_county["county_officer"]):
        for document in ("file.pdf", "qr.png", "qr.svg"):
            refused = await driver.get(reader, f"/api/v1/households/{code}/{document}")
            assert refused.status_code == 404 and refused.json()["detail"]["code"] == "not_found", (reader, document)
    assert (await driver.http.get(f"/api/v1/households/{code}/file.pdf")).status_code == 401

    # The result announcement of the day, in the township's name, without personal data.
    today = county_today().isoformat()
    announced = await driver.get(VILLAGE_CADRE, "/api/v1/villages/610824100201/announcement", on=today)
    assert announced.status_code == 200
    body = announced.json()
    assert body["title"] == "东坑镇关于东坑村防止返贫监测对象识别结果的公告"
    assert {
        "head_name": household["head_name"],
        "household_size": 4,
        "category": "marginal",
        "category_label": "边缘易致贫户",
    } in body["households"]
    page = await driver.get(TOWNSHIP_APPROVER, "/api/v1/villages/610824100201/announcement.html", on=today)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert household["head_name"] in page.text and "东坑镇人民政府" in page.text and "边缘易致贫户" in page.text
    _no_personal_data(household, str(body), page.text)
    earlier = await driver.get(VILLAGE_CADRE, "/api/v1/villages/610824100201/announcement", on="2020-01-01")
    assert earlier.json()["households"] == []
    _refused_outside(await _village_answers(driver, "announcement", other_county))


async def test_exit_notice_lists_households_on_notice_without_personal_data(
    driver: CaseDriver, new_household: NewHousehold, settings: Settings, other_county: dict[str, str]
) -> None:
    """The exit's notice period as the monitoring workflow records it (a read-model row made by
    hand: an exit takes six months of visits); one exit on notice, one withdrawn by an objection."""
    on_notice, withdrawn = await new_household(), await new_household()
    household = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{on_notice}")).json()
    starts = datetime.now(UTC) - timedelta(days=1)
    await _monitored_with_exit(settings, on_notice, starts, step="village_notice", outcome=None)
    await _monitored_with_exit(settings, withdrawn, starts, step="closed", outcome="objection_upheld")
    withdrawn_head = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{withdrawn}")).json()["head_name"]

    notice = (await driver.get(VILLAGE_CADRE, "/api/v1/villages/610824100201/exit-notice")).json()
    assert notice["title"] == "东坑村防止返贫监测对象风险消除公示"
    names = [e["head_name"] for e in notice["households"]]
    assert household["head_name"] in names and withdrawn_head not in names
    entry = next(e for e in notice["households"] if e["head_name"] == household["head_name"])
    assert entry["category_label"] == "边缘易致贫户" and entry["monitored_since"] == "2026-01-05"
    page = await driver.get(COUNTY_OFFICER, "/api/v1/villages/610824100201/exit-notice.html")
    assert page.status_code == 200 and household["head_name"] in page.text and "风险已消除" in page.text
    assert "东坑镇人民政府" in page.text
    _no_personal_data(household, str(notice), page.text)
    later = (starts + timedelta(days=30)).date().isoformat()
    assert (await driver.get(VILLAGE_CADRE, "/api/v1/villages/610824100201/exit-notice", on=later)).json()[
        "households"
    ] == []
    _refused_outside(await _village_answers(driver, "exit-notice", other_county))


async def _village_answers(driver: CaseDriver, document: str, other_county: dict[str, str]) -> list[Any]:
    return [
        await driver.get(reader, f"/api/v1/villages/{village}/{document}{suffix}")
        for reader, village in (
            (OTHER_VILLAGE_CADRE, "610824100201"),
            (OTHER_TOWNSHIP, "610824100201"),
            (other_county["county_officer"], "610824100201"),
            (VILLAGE_CADRE, "610824100000"),  # a township is not a village
            ("admin", "610824100201"),
            (NO_PERSONAL_DATA, "610824100201"),
        )
        for suffix in ("", ".html")
    ]


def _refused_outside(answers: list[Any]) -> None:
    assert [a.status_code for a in answers] == [404] * 8 + [403] * 4, [a.status_code for a in answers]


def _no_personal_data(household: dict[str, Any], *shown: str) -> None:
    for text_ in shown:
        for member in household["members"]:
            assert member["id_number"] not in text_ and member["id_number"][-4:] not in text_
        assert "13800138000" not in text_ and "138****" not in text_


async def _monitored_with_exit(
    settings: Settings, household_code: str, starts: datetime, step: str, outcome: str | None
) -> None:
    state = {
        "since": "2026-01-05T02:00:00+00:00",
        "category": "marginal",
        "risk_types": ["illness"],
        "exits": [
            {
                "exit_no": 1,
                "step": step,
                "outcome": outcome,
                "notice": {
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(days=5)).isoformat(),
                    "objections": [],
                },
            }
        ],
    }
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(
            text("""
                INSERT INTO monitoring_records (monitoring_id, workflow_id, household_code, county_code,
                    township_code, village_code, status, exit_step, exit_eligible, since, tasks, last_seq, state)
                VALUES (:id, :id, :code, '610824000000', '610824100000', '610824100201', 'risk_not_eliminated',
                    :step, true, '2026-01-05T02:00:00+00:00', '[]', 1, CAST(:state AS jsonb))
            """),
            {"id": f"test-exit-{household_code}", "code": household_code, "step": step, "state": json.dumps(state)},
        )
    await engine.dispose()
