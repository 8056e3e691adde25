"""Member records (家庭成员) by import: each cell checked (an ID number by GB 11643, the sex it
implies), a person a current member of one household at most, refusals that never repeat an ID
number, the same records again changing nothing, and a run after a member import screening the
households whose members it changed."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from services.demo_case import COUNTY_OFFICER, DEMO_VILLAGE, VILLAGE_CADRE, CaseDriver
from services.domain.personal_data import id_check_char
from services.settings import Settings
from services.workers.screening import imports
from tests.applicants import eventually
from tests.conftest import new_household_body
from tests.screening.files import csv_file, db_value, finished_job, fresh_codes, rejections, send_import

AFTER_MEMBERS_YEAR = 2049  # the data's own year: no other test imports for it
HEADING = ["户编号", "姓名", "身份证号", "与户主关系", "性别", "劳动能力", "健康状况", "残疾情况", "在校情况"]


def wrong_check_char(id_number: str) -> str:
    right = id_check_char(id_number[:17])
    return id_number[:17] + ("1" if right != "1" else "2")


async def imported_household(driver: CaseDriver, settings: Settings, head: str, size: int) -> str:
    """A new household of the demo village, brought in by a household import (no members yet)."""
    (code,) = await fresh_codes(settings, 1)
    heading = ["户编号", "村代码", "户主姓名", "住址", "家庭人口"]
    job = await send_import(driver, "households", csv_file([heading, [code, DEMO_VILLAGE, head, "七组", size]]))
    done = await finished_job(driver, job["job_id"])
    # Taken, not refused: a member file for a household that is not there refuses every row.
    assert (done["status"], done["rows_rejected"]) == ("done", 0), (done, await rejections(driver, job["job_id"]))
    return code


async def test_member_records_are_checked_and_a_person_stays_in_one_household(
    driver: CaseDriver, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)  # a repeated person is met in the register, a chunk later
    code = await imported_household(driver, settings, "陈一", 3)
    head, wife, son, stranger = new_household_body(size=4)["members"]  # male, female, male, female: no test uses them
    elsewhere = new_household_body(size=1)
    registered = await driver.post(VILLAGE_CADRE, "/api/v1/households", elsewhere)
    assert registered.status_code == 201, registered.text
    member_elsewhere = elsewhere["members"][0]

    rows = [
        HEADING,
        [code, head["name"], head["id_number"], "户主", "男", "有劳动能力", None, None, None],  # row 2
        [code, wife["name"], wife["id_number"], "配偶", "female", "partial", "慢性病", None, None],  # row 3
        [code, "重复", wife["id_number"], "配偶", "女", "full", None, None, None],  # row 4: row 3's person
        [code, son["name"], wrong_check_char(son["id_number"]), "子女", "男", "full", None, None, None],  # row 5
        [code, son["name"], son["id_number"], "子女", "女", "full", None, None, None],  # row 6: sex against ID
        [code, "外户", member_elsewhere["id_number"], "子女", "男", "full", None, None, None],  # row 7
        [
            "610824100201999997",
            stranger["name"],
            stranger["id_number"],
            "子女",
            "女",
            "full",
            None,
            None,
            None,
        ],  # row 8
        [code, son["name"], son["id_number"], "子女", "男", "无劳动能力", None, None, "在校"],  # row 9
    ]
    job = await send_import(driver, "members", csv_file(rows))
    done = await finished_job(driver, job["job_id"])
    assert (done["status"], done["rows_read"], done["rows_changed"], done["rows_rejected"]) == ("done", 8, 3, 5)
    refused = await rejections(driver, job["job_id"])
    assert refused == [
        (4, "身份证号", "与第3行重复（同一条记录出现两次）"),
        (5, "身份证号", "身份证号校验位不正确，请核对后重新填写"),
        (6, "性别", "性别与身份证号不一致"),
        (7, "身份证号", "此人已是其他农户的在册成员，迁移请办理户籍变动"),
        (8, "户编号", "户编号未登记，或该户不在本县"),
    ]
    assert not any(re.search(r"\d{17}", message) for _, _, message in refused)  # no ID number repeated
    current = "SELECT count(*) FROM members WHERE household_code = :c AND ended_on IS NULL"
    assert await db_value(settings, current, c=code) == 3
    assert (
        await db_value(settings, "SELECT labour_capacity FROM members WHERE id_number = :n", n=son["id_number"])
        == "none"
    )
    assert await db_value(settings, current, c=registered.json()["code"]) == 1  # the other household keeps its member

    # The same records in another file (another order) change nothing; a changed relation changes one.
    again = await send_import(driver, "members", csv_file([rows[0], rows[2], rows[1], *rows[3:]]))
    done = await finished_job(driver, again["job_id"])
    assert (done["rows_changed"], done["rows_unchanged"], done["rows_rejected"]) == (0, 3, 5)
    rows[8][3] = "孙子女"  # file row 9: the son
    changed = await finished_job(driver, (await send_import(driver, "members", csv_file(rows)))["job_id"])
    assert (changed["rows_changed"], changed["rows_unchanged"]) == (1, 2)
    assert await db_value(settings, current, c=code) == 3
    household = (await driver.get(COUNTY_OFFICER, f"/api/v1/households/{code}")).json()
    assert sorted(m["relation"] for m in household["members"]) == ["孙子女", "户主", "配偶"]


async def test_all_or_nothing_member_file_takes_nothing_while_one_row_is_refused(
    driver: CaseDriver, settings: Settings
) -> None:
    code = await imported_household(driver, settings, "周一", 2)
    head, wife = new_household_body(size=2)["members"]
    good = [code, head["name"], head["id_number"], "户主", "男", "有劳动能力", None, None, None]
    bad = [code, wife["name"], wrong_check_char(wife["id_number"]), "配偶", "女", "有劳动能力", None, None, None]
    current = "SELECT count(*) FROM members WHERE household_code = :c AND ended_on IS NULL"

    refused = await send_import(driver, "members", csv_file([HEADING, good, bad]), mode="all_or_nothing")
    done = await finished_job(driver, refused["job_id"])
    assert (done["status"], done["rows_rejected"]) == ("rejected", 1)
    assert await rejections(driver, refused["job_id"]) == [(3, "身份证号", "身份证号校验位不正确，请核对后重新填写")]
    assert await db_value(settings, current, c=code) == 0  # the good row was not taken either

    bad[2] = wife["id_number"]
    taken = await send_import(driver, "members", csv_file([HEADING, good, bad]), mode="all_or_nothing")
    done = await finished_job(driver, taken["job_id"])
    assert (done["status"], done["rows_changed"], done["rows_rejected"]) == ("done", 2, 0)
    assert await db_value(settings, current, c=code) == 2


async def _run_of(driver: CaseDriver, job_id: int) -> tuple[dict[str, Any], list[str]]:
    """The run the import asked for, once done, and the households it screened."""

    async def runs() -> list[dict[str, Any]]:
        return (await driver.get(COUNTY_OFFICER, "/api/v1/screening/runs", import_job=job_id)).json()

    (run,) = await eventually(runs, lambda r: bool(r) and r[0]["status"] == "done", timeout=60)
    hits = (await driver.get(COUNTY_OFFICER, f"/api/v1/screening/runs/{run['run_id']}/households")).json()
    return run, sorted(h["household_code"] for h in hits["items"])


async def test_a_run_after_a_member_import_screens_the_households_whose_members_changed(
    driver: CaseDriver, settings: Settings
) -> None:
    """Three low-income households screened after their incomes; then a member file changes one
    member (an upsert), adds one (a COPY) and repeats one: the follow-up run screens the two changed."""
    changed, added, same = [await imported_household(driver, settings, head, 2) for head in ("吴一", "吴二", "吴三")]
    people = new_household_body(size=3)["members"]  # male, female, male
    rows = [
        HEADING,
        [changed, people[0]["name"], people[0]["id_number"], "户主", "男", "full", None, None, None],
        [same, people[1]["name"], people[1]["id_number"], "户主", "女", "full", None, None, None],
    ]
    assert (await finished_job(driver, (await send_import(driver, "members", csv_file(rows)))["job_id"]))[
        "rows_changed"
    ] == 2
    incomes = [
        ["户编号", "年度", "收入来源", "金额"],
        *([code, AFTER_MEMBERS_YEAR, "wage", 2000] for code in (changed, added, same)),
    ]
    job = await send_import(driver, "incomes", csv_file(incomes), screen_year=AFTER_MEMBERS_YEAR)
    assert (await finished_job(driver, job["job_id"]))["rows_changed"] == 3
    run, screened = await _run_of(driver, job["job_id"])
    assert (run["flagged"], screened) == (3, sorted([changed, added, same]))

    rows[1][6] = "慢性病"  # the head of `changed`: health
    rows.append([added, people[2]["name"], people[2]["id_number"], "户主", "男", "partial", None, None, None])
    job = await send_import(driver, "members", csv_file(rows), screen_year=AFTER_MEMBERS_YEAR)
    done = await finished_job(driver, job["job_id"])
    assert (done["rows_changed"], done["rows_unchanged"], done["rows_rejected"]) == (2, 1, 0)
    run, screened = await _run_of(driver, job["job_id"])
    assert (run["import_job"], run["flagged"], screened) == (job["job_id"], 2, sorted([changed, added]))
    assert run["opened"] == 0  # the households were led in this year already: no second lead

    # The birth date, read from the ID number, is written alike by the upsert and the COPY.
    for person in (people[0], people[2]):
        number = person["id_number"]
        born = await db_value(settings, "SELECT birth_date FROM members WHERE id_number = :n", n=number)
        assert born == date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
