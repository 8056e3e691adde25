"""Roster downloads: every workbook opened and read back with openpyxl; the hand-made county's rows,
filtered by area, status and dates; personal data whole only for the roles that act on households."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from sqlalchemy import literal, select

from services.api.reports.sql_cells import masked_id_number, masked_phone
from services.db.engine import create_engine
from services.demo_case import CaseDriver
from services.domain.personal_data import mask_id_number, mask_phone
from services.settings import Settings
from tests.reports.county import COUNTY, H1, H2, H3, H4, H5, H6, H7, HEAD_ID, T1, T2, People

ROSTERS = "/api/v1/reports/rosters"


async def sheet(driver: CaseDriver, who: str, kind: str, **params: Any) -> list[dict[str, Any]]:
    answer = await driver.get(who, f"{ROSTERS}/{kind}", **params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    headings = rows[0]
    return [dict(zip(headings, row, strict=True)) for row in rows[1:]]


async def test_monitoring_targets_with_chinese_headings(driver: CaseDriver, report_county: People) -> None:
    rows = await sheet(driver, report_county.officer, "monitoring_targets", area=COUNTY)
    assert [r["户编号"] for r in rows] == [H1, H2, H6, H3, H4, H5]  # by household code: 甲村, 乙村, 丙村
    h1 = rows[0]
    assert h1 == {
        "户编号": H1,
        "乡镇": "一镇",
        "行政村": "甲村",
        "户主姓名": "户主1",
        "户主身份证号": HEAD_ID[H1],
        "联系电话": "13900000001",
        "监测对象类别": "边缘易致贫户",
        "风险状态": "风险已消除",
        "纳入监测日期": "2025-01-10",
        "风险消除日期": "2025-03-15",
        "脱贫户": "否",
    }
    assert next(r for r in rows if r["户编号"] == H6)["纳入监测日期"] == "2025-03-25"  # its latest period


async def test_filters_by_area_status_and_dates(driver: CaseDriver, report_county: People) -> None:
    township = await sheet(driver, report_county.approver_t2, "monitoring_targets")
    assert [r["户编号"] for r in township] == [H4, H5]
    eliminated = await sheet(driver, report_county.officer, "monitoring_targets", status="risk_eliminated")
    assert [r["户编号"] for r in eliminated] == [H1, H3]
    march = await sheet(
        driver, report_county.officer, "monitoring_targets", from_date="2025-03-01", to_date="2025-03-31"
    )
    assert [r["户编号"] for r in march] == [H2, H6, H4]


@pytest.mark.parametrize("reader", ["admin", "grid_a"])
async def test_personal_data_masked_for_readers_who_do_not_act(
    driver: CaseDriver, report_county: People, reader: str
) -> None:
    rows = await sheet(driver, getattr(report_county, reader), "monitoring_targets", area="610898100201")
    assert {r["户主身份证号"] for r in rows} == {mask_id_number(HEAD_ID[h]) for h in (H1, H2, H6)}
    assert {r["联系电话"] for r in rows} == {mask_phone(f"1390000000{h[-1]}") for h in (H1, H2, H6)}
    whole = await sheet(driver, report_county.cadre_a, "monitoring_targets")
    assert {r["户主身份证号"] for r in whole} == {HEAD_ID[h] for h in (H1, H2, H6)}


async def test_formerly_poor_roster(driver: CaseDriver, report_county: People) -> None:
    rows = await sheet(driver, report_county.officer, "formerly_poor", area=COUNTY)
    assert [(r["户编号"], r["脱贫年度"], r["低保"], r["监测状态"]) for r in rows] == [
        (H7, 2018, "是", "非监测对象"),
        (H3, 2019, "否", "风险已消除"),
    ]


async def test_visits_measures_and_cases_rosters(driver: CaseDriver, report_county: People) -> None:
    visits = await sheet(driver, report_county.officer, "visits", area=COUNTY)
    assert visits == [
        {
            "户编号": H2,
            "乡镇": "一镇",
            "行政村": "甲村",
            "户主姓名": "户主2",
            "走访对象": "监测对象",
            "走访日期": "2025-03-10",
            "走访人员": "张三、李四",
            "走访情况": "家中收入<稳定>&正常",  # escaped in the sheet, read back as written
            "人均纯收入（元）": 8000.5,
        }
    ]
    assert await sheet(driver, report_county.officer, "visits", area=COUNTY, from_date="2025-03-11") == []
    measures = await sheet(driver, report_county.officer, "measures", area=COUNTY)
    assert [(r["户编号"], r["措施类别"], r["状态"], r["落实日期"]) for r in measures] == [
        (H2, "就业帮扶", "已落实", "2025-03-20"),
        (H2, "金融帮扶", "实施中", None),
        (H2, "产业帮扶", "已撤回", None),
        (H3, "就业帮扶", "已落实", "2025-02-28"),
        (H3, "综合保障", "实施中", None),
    ]
    cases = await sheet(driver, report_county.approver_t1, "cases", from_date="2025-03-01", to_date="2025-03-31")
    assert [(r["案件编号"], r["办理结果"], r["超过15天时限"]) for r in cases] == [
        ("ceshi-c4", "民主评议未通过，终止识别", "否"),
        ("ceshi-c7", None, "是"),
        ("ceshi-c3", "已认定为监测对象", "否"),
        ("ceshi-c5", None, "是"),
    ]


async def test_outside_the_area_is_refused(
    driver: CaseDriver, report_county: People, other_county: dict[str, str]
) -> None:
    for who, area in (
        (report_county.approver_t2, T1),
        (report_county.cadre_a, T1),
        (other_county["county_officer"], COUNTY),
    ):
        answer = await driver.get(who, f"{ROSTERS}/monitoring_targets", area=area)
        assert answer.status_code == 403, (who, area)
        assert answer.json()["detail"]["code"] == "forbidden"
    assert (await driver.get(report_county.approver_t2, f"{ROSTERS}/cases", area=T2)).status_code == 200


async def test_bad_filters_are_refused_naming_the_field(driver: CaseDriver, report_county: People) -> None:
    backwards = await driver.get(
        report_county.officer, f"{ROSTERS}/visits", from_date="2025-04-01", to_date="2025-03-01"
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"]["errors"][0]["field"] == "from_date"
    unknown = await driver.get(report_county.officer, f"{ROSTERS}/everything")
    assert unknown.status_code == 422
    assert unknown.json()["detail"]["errors"][0]["field"] == "kind"


async def test_the_database_masks_as_the_service_does(settings: Settings) -> None:
    values = [HEAD_ID[H1], "61082419900101123", "13900000001", "1390000", ""]
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.connect() as conn:
        for value in values:
            masked_id, masked_tel = (
                await conn.execute(select(masked_id_number(literal(value)), masked_phone(literal(value))))
            ).one()
            assert (masked_id, masked_tel) == (mask_id_number(value), mask_phone(value)), value
    await engine.dispose()
