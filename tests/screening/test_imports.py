"""Bulk imports (services/workers/screening/imports.py): every refused row reported with its row
number and a reason in Chinese, all or nothing or row by row as asked, the same file twice changing
nothing, CSV and Excel, and only the county's officers inside their own county."""

from __future__ import annotations

import io
import zipfile

import pytest

from services.demo_case import COUNTY_OFFICER, DEMO_VILLAGE, TOWNSHIP_APPROVER, CaseDriver
from services.settings import Settings
from services.workers.screening import imports
from tests.screening.files import (
    csv_file,
    db_value,
    finished_job,
    fresh_codes,
    rejections,
    send_import,
    xlsx_file,
)

HOUSEHOLD_HEADING = ["户编号", "村代码", "户主姓名", "住址", "家庭人口"]
INCOME_HEADING = ["household_code", "year", "source", "yuan"]
YEAR = 2041  # the data's own year: no other test imports for it


async def test_row_by_row_takes_good_rows_and_reports_each_refused_one(driver: CaseDriver, settings: Settings) -> None:
    first, second, third = await fresh_codes(settings, 3)
    other_county_village = "610802100201"
    job = await send_import(
        driver,
        "households",
        csv_file(
            [
                HOUSEHOLD_HEADING,
                [first, DEMO_VILLAGE, "王大山", "东坑村一组1号", 3],  # row 2
                ["610824999901000001", "610824999901", "李四", "不存在的村", 2],  # row 3: unknown village
                [f"{other_county_village}000001", other_county_village, "赵五", "外县", 2],  # row 4: another county
                [second, DEMO_VILLAGE, "孙六", "东坑村二组", "三口"],  # row 5: size not a number
                [first, DEMO_VILLAGE, "王大山", "东坑村一组1号", 3],  # row 6: row 2 again
                [],  # a blank line is no row
                [third, "610824100202", "周七", "伙场湾村", 4],  # row 8: code of another village
                [second, DEMO_VILLAGE, "孙六", "东坑村二组", 2],  # row 9
            ]
        ),
    )
    done = await finished_job(driver, job["job_id"])
    assert (done["status"], done["rows_read"], done["rows_changed"], done["rows_rejected"]) == ("done", 7, 2, 5)
    refused = await rejections(driver, job["job_id"])
    assert [(row, field) for row, field, _ in refused] == [
        (3, "村代码"),
        (4, "村代码"),
        (5, "家庭人口"),
        (6, "户编号"),
        (8, "户编号"),
    ]
    assert "没有这个村级区划代码" in refused[0][2]
    assert refused[2][2] == "应为数字"
    assert refused[3][2] == "与第2行重复（同一条记录出现两次）"
    assert refused[4][2] == "户编号应以所在村的区划代码开头"

    household = await driver.get(COUNTY_OFFICER, f"/api/v1/households/{first}")
    assert household.status_code == 200 and household.json()["head_name"] == "王大山"
    assert (
        await db_value(settings, "SELECT household_size FROM household_profiles WHERE household_code = :c", c=first)
        == 3
    )

    # Incomes of unknown households, unknown sources and rows cut short are refused; the rest is taken.
    incomes = await send_import(
        driver,
        "incomes",
        csv_file(
            [
                INCOME_HEADING,
                [first, YEAR, "wage", 12000],
                [first, YEAR, "转移净收入", 1800.5],
                ["610824100201999999", YEAR, "wage", 100],  # not registered
                [second, YEAR, "彩票", 100],  # no such source
                [second, YEAR, "wage"],  # no amount
            ]
        ),
    )
    done = await finished_job(driver, incomes["job_id"])
    assert (done["rows_changed"], done["rows_rejected"]) == (2, 3)
    assert [(r, f) for r, f, _ in await rejections(driver, incomes["job_id"])] == [
        (4, "户编号"),
        (5, "收入来源"),
        (6, "金额"),
    ]
    total = await db_value(settings, "SELECT sum(yuan) FROM household_incomes WHERE household_code = :c", c=first)
    assert total == 13800.5


async def test_all_or_nothing_takes_nothing_while_a_row_is_refused(driver: CaseDriver, settings: Settings) -> None:
    (code,) = await fresh_codes(settings, 1)
    households = await send_import(
        driver, "households", csv_file([HOUSEHOLD_HEADING, [code, DEMO_VILLAGE, "钱八", "东坑村三组", 2]])
    )
    assert (await finished_job(driver, households["job_id"]))["status"] == "done"
    rows = [INCOME_HEADING, [code, YEAR, "wage", 9000], [code, YEAR, "business_net", "很多"]]
    refused = await send_import(driver, "incomes", csv_file(rows), mode="all_or_nothing")
    job = await finished_job(driver, refused["job_id"])
    assert (job["status"], job["rows_read"], job["rows_rejected"], job["rows_changed"]) == ("rejected", 2, 1, 0)
    assert await rejections(driver, refused["job_id"]) == [(3, "金额", "应为数字")]
    assert await db_value(settings, "SELECT count(*) FROM household_incomes WHERE household_code = :c", c=code) == 0

    rows[2][3] = 3000
    fixed = await send_import(driver, "incomes", csv_file(rows), mode="all_or_nothing")
    job = await finished_job(driver, fixed["job_id"])
    assert (job["status"], job["rows_changed"]) == ("done", 2)
    assert (
        await db_value(settings, "SELECT sum(yuan) FROM household_incomes WHERE household_code = :c", c=code) == 12000
    )


async def test_the_same_data_twice_changes_nothing(driver: CaseDriver, settings: Settings) -> None:
    (code,) = await fresh_codes(settings, 1)
    await finished_job(
        driver,
        (
            await send_import(
                driver, "households", csv_file([HOUSEHOLD_HEADING, [code, DEMO_VILLAGE, "吴九", "四组", 1]])
            )
        )["job_id"],
    )
    rows = [INCOME_HEADING, [code, YEAR, "wage", 5000], [code, YEAR, "transfer", 700]]
    first = await send_import(driver, "incomes", csv_file(rows))
    assert (await finished_job(driver, first["job_id"]))["rows_changed"] == 2

    again = await send_import(driver, "incomes", csv_file(rows))
    assert (again["job_id"], again["repeated"]) == (first["job_id"], True)

    # Another file carrying the same rows (in another order) is a new job that changes nothing.
    reordered = await send_import(driver, "incomes", csv_file([rows[0], rows[2], rows[1]]))
    job = await finished_job(driver, reordered["job_id"])
    assert (job["rows_changed"], job["rows_unchanged"], job["rows_rejected"]) == (0, 2, 0)
    changed_by = await db_value(
        settings, "SELECT max(changed_job) FROM household_incomes WHERE household_code = :c", c=code
    )
    assert changed_by == first["job_id"]


async def test_excel_signals_and_a_file_without_a_needed_column(driver: CaseDriver, settings: Settings) -> None:
    (code,) = await fresh_codes(settings, 1)
    await finished_job(
        driver,
        (
            await send_import(
                driver, "households", csv_file([HOUSEHOLD_HEADING, [code, DEMO_VILLAGE, "郑十", "五组", 3]])
            )
        )["job_id"],
    )
    sheet = [
        ["户编号", "月份", "信号类型", "金额"],
        [code, f"{YEAR}-03", "医疗费用", 18000.0],
        [code, f"{YEAR}-04", "学生辍学", None],
        [code, f"{YEAR}-05", "工资发放", None],  # wages need an amount
        [code, f"{YEAR}-13", "危房鉴定", None],  # no 13th month
    ]
    job = await send_import(driver, "signals", xlsx_file(sheet), name="信号.xlsx")
    done = await finished_job(driver, job["job_id"])
    assert (done["rows_changed"], done["rows_rejected"]) == (2, 2)
    assert [(r, f) for r, f, _ in await rejections(driver, job["job_id"])] == [(4, "金额"), (5, "月份")]

    headless = await send_import(driver, "signals", csv_file([["户编号", "金额"], [code, 1]]))
    done = await finished_job(driver, headless["job_id"])
    assert done["status"] == "rejected"
    assert await rejections(driver, headless["job_id"]) == [(1, "表头", "缺少列：月份、信号类型")]


async def test_only_county_officers_import_and_only_their_county_reads(
    driver: CaseDriver, settings: Settings, other_county: dict[str, str]
) -> None:
    (code,) = await fresh_codes(settings, 1)
    body = {
        "kind": "households",
        "mode": "row_by_row",
        "file_name": "a.csv",
        "content_base64": "5oi357yW5Y+3LOadkeS7o+eggQo=",
    }
    assert (await driver.post(TOWNSHIP_APPROVER, "/api/v1/screening/imports", body)).status_code == 403
    assert (await driver.post(other_county["admin"], "/api/v1/screening/imports", body)).status_code == 403
    refused = await driver.post(COUNTY_OFFICER, "/api/v1/screening/imports", body | {"file_name": "a.pdf"})
    assert refused.status_code == 422 and refused.json()["detail"]["errors"][0]["field"] == "file_name"
    bad = await driver.post(COUNTY_OFFICER, "/api/v1/screening/imports", body | {"content_base64": "不是base64"})
    assert bad.status_code == 422 and bad.json()["detail"]["errors"][0]["field"] == "content_base64"

    job = await send_import(
        driver, "households", csv_file([HOUSEHOLD_HEADING, [code, DEMO_VILLAGE, "冯一", "六组", 2]])
    )
    await finished_job(driver, job["job_id"])
    path = f"/api/v1/screening/imports/{job['job_id']}"
    assert (await driver.get(other_county["county_officer"], path)).status_code == 404
    assert (await driver.get(other_county["county_officer"], f"{path}/rejections")).status_code == 404
    assert (await driver.get(TOWNSHIP_APPROVER, path)).status_code == 403


async def test_a_key_repeated_in_a_later_chunk_is_refused_with_its_first_row(
    driver: CaseDriver, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within a chunk the rows are compared in the worker; across chunks the register is probed for
    a key this job already wrote (chunks of two rows here, read ahead while the previous one is written)."""
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    first, second = await fresh_codes(settings, 2)
    households = await send_import(
        driver,
        "households",
        csv_file(
            [
                HOUSEHOLD_HEADING,
                [first, DEMO_VILLAGE, "郑十", "五组", 2],  # row 2
                [second, DEMO_VILLAGE, "冯一", "五组", 3],  # row 3
                [second, DEMO_VILLAGE, "冯一", "五组", 3],  # row 4: row 3 again, next chunk
                [first, DEMO_VILLAGE, "郑十", "五组", 2],  # row 5: row 2 again
                [first, "610824100202", "郑十", "五组", 2],  # row 6: another village's code, third chunk
            ]
        ),
    )
    job = await finished_job(driver, households["job_id"])
    assert (job["rows_read"], job["rows_changed"], job["rows_rejected"]) == (5, 2, 3)
    assert await rejections(driver, households["job_id"]) == [
        (4, "户编号", "与第3行重复（同一条记录出现两次）"),
        (5, "户编号", "与第2行重复（同一条记录出现两次）"),
        (6, "户编号", "户编号应以所在村的区划代码开头"),
    ]

    rows = [
        INCOME_HEADING,
        [first, YEAR, "wage", 100],  # row 2
        [second, YEAR, "wage", 200],  # row 3
        ["610824100201999998", YEAR, "wage", 300],  # row 4: not registered
        [first, YEAR, "wage", 400],  # row 5: row 2 again
        [second, YEAR, "transfer", 500],  # row 6
    ]
    incomes = await send_import(driver, "incomes", csv_file(rows))
    job = await finished_job(driver, incomes["job_id"])
    assert (job["rows_read"], job["rows_changed"], job["rows_rejected"]) == (5, 3, 2)
    assert [(r, m) for r, _, m in await rejections(driver, incomes["job_id"])] == [
        (4, "户编号未登记，或该户不在本县"),
        (5, "与第2行重复（同一条记录出现两次）"),
    ]
    assert await db_value(settings, "SELECT yuan FROM household_incomes WHERE household_code = :c", c=first) == 100


async def test_a_job_or_run_number_beyond_bigint_is_refused_naming_it(driver: CaseDriver) -> None:
    huge = 2**63
    for path, field in (
        (f"/api/v1/screening/imports/{huge}", "job_id"),
        (f"/api/v1/screening/imports/{huge}/rejections", "job_id"),
        (f"/api/v1/screening/runs/{huge}", "run_id"),
        (f"/api/v1/screening/runs/{huge}/households", "run_id"),
    ):
        answer = await driver.get(COUNTY_OFFICER, path)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["detail"]["errors"][0]["field"] == field


def _sheet_broken_in_its_heading() -> bytes:
    """A real .xlsx whose sheet XML is cut off inside its first row: no heading can be read."""
    whole = zipfile.ZipFile(io.BytesIO(xlsx_file([HOUSEHOLD_HEADING])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        for item in whole.infolist():
            content = whole.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: content.index(b"<row")] + b"<row <<<"
            book.writestr(item, content)
    return out.getvalue()


async def test_a_file_that_is_not_what_its_name_says_is_refused(driver: CaseDriver) -> None:
    for name, content in (
        ("农户.xlsx", csv_file([HOUSEHOLD_HEADING])),
        ("农户.csv", b"\xff\xfe\x00\xff" * 8),
        ("坏表头.xlsx", _sheet_broken_in_its_heading()),  # the XML parser's error, not a retried activity
    ):
        job = await send_import(driver, "households", content, name=name)
        done = await finished_job(driver, job["job_id"])
        assert (done["status"], done["rows_read"]) == ("rejected", 0), name
        assert [(row, field) for row, field, _ in await rejections(driver, job["job_id"])] == [(1, "文件")], name
