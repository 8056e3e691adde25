"""Import files uploaded as multipart (POST /screening/imports/upload): past the 4 MB body limit
(the body guard streams this path, and this path only), the same job as the JSON route for the
same file, the same refusals naming their field, and read errors deep in a file reported with
their row whichever way the file is imported."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from functools import partial

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from services.demo_case import ADMIN, COUNTY_OFFICER, DEMO_VILLAGE, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver
from services.settings import Settings
from tests.applicants import eventually
from tests.conftest import api_for
from tests.screening.files import (
    UPLOAD_PATH,
    csv_file,
    db_value,
    finished_job,
    fresh_codes,
    rejections,
    upload_import,
)

HOUSEHOLD_HEADING = ["户编号", "村代码", "户主姓名", "住址", "家庭人口"]
INCOME_HEADING = b"household_code,year,source,yuan,remark"
SOURCES = (b"wage", b"business_net", b"property_income", b"transfer")
MEGABYTE = 1 << 20


async def _registered(driver: CaseDriver, settings: Settings, count: int) -> list[str]:
    codes = await fresh_codes(settings, count)
    rows = [HOUSEHOLD_HEADING, *([code, DEMO_VILLAGE, "上传户", "七组", 3] for code in codes)]
    answer = await upload_import(driver, "households", csv_file(rows))
    assert answer.status_code == 201, answer.text
    assert (await finished_job(driver, answer.json()["job_id"]))["rows_changed"] == count
    return codes


def _incomes(code: str, count: int, pad: int) -> list[bytes]:
    """Income rows of one household (a year and source each, 2000 onwards), padded by a remark
    column no kind reads, so a few hundred rows make megabytes."""
    return [
        b"%s,%d,%s,%d,%s" % (code.encode(), 2000 + n // 4, SOURCES[n % 4], 90_000 + n, b"x" * pad) for n in range(count)
    ]


def _file(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in [INCOME_HEADING, *lines])


async def test_a_file_past_the_body_limit_is_taken_and_the_same_file_again_is_the_same_job(
    driver: CaseDriver, settings: Settings
) -> None:
    """Without the body guard's streamed path a 5 MB multipart body here is a 413."""
    (code,) = await _registered(driver, settings, 1)
    content = _file(_incomes(code, 400, 14_000))
    assert len(content) > 5 * MEGABYTE
    first = await upload_import(driver, "incomes", content, name="收入.csv")
    assert first.status_code == 201, first.text
    job = await finished_job(driver, first.json()["job_id"])
    assert (job["status"], job["rows_read"], job["rows_changed"], job["rows_rejected"]) == ("done", 400, 400, 0)
    assert await db_value(settings, "SELECT count(*) FROM household_incomes WHERE household_code = :c", c=code) == 400
    parts = await db_value(settings, "SELECT count(*) FROM import_file_parts WHERE job_id = :j", j=job["job_id"])
    assert parts == -(-len(content) // MEGABYTE)

    again = await upload_import(driver, "incomes", content, name="收入（再次）.csv")
    assert again.status_code == 201 and again.json()["repeated"] is True
    assert again.json()["job_id"] == job["job_id"]

    # Sent chunked (no Content-Length): streamed all the same.
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(content), 256 * 1024):
            yield content[start : start + 256 * 1024]

    chunked = await upload_import(driver, "incomes", chunks(), name="收入.csv")
    assert chunked.status_code == 201, chunked.text
    assert (chunked.json()["job_id"], chunked.json()["repeated"]) == (job["job_id"], True)


async def test_a_small_file_is_one_job_whichever_route_brings_it(driver: CaseDriver, settings: Settings) -> None:
    (code,) = await fresh_codes(settings, 1)
    content = csv_file([HOUSEHOLD_HEADING, [code, DEMO_VILLAGE, "两路户", "八组", 2]])
    body = {
        "kind": "households",
        "mode": "all_or_nothing",
        "file_name": "农户.csv",
        "content_base64": base64.b64encode(content).decode(),
    }
    sent = await driver.post(COUNTY_OFFICER, "/api/v1/screening/imports", body)
    assert sent.status_code == 201 and sent.json()["repeated"] is False
    uploaded = await upload_import(driver, "households", content, mode="all_or_nothing", name="农户（上传）.csv")
    assert uploaded.status_code == 201, uploaded.text
    assert (uploaded.json()["job_id"], uploaded.json()["repeated"]) == (sent.json()["job_id"], True)


def _field(answer: httpx.Response) -> str:
    assert answer.status_code == 422, answer.text
    return str(answer.json()["detail"]["errors"][0]["field"])


async def test_the_upload_is_refused_naming_its_field_and_only_county_officers_send_one(
    driver: CaseDriver, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = csv_file([HOUSEHOLD_HEADING])
    for role in (TOWNSHIP_APPROVER, VILLAGE_CADRE, ADMIN):
        assert (await upload_import(driver, "households", content, user=role)).status_code == 403, role
    assert _field(await upload_import(driver, "households", content, name="农户.pdf")) == "file"
    assert _field(await upload_import(driver, "farms", content)) == "kind"
    assert _field(await upload_import(driver, "households", content, mode="sometimes")) == "mode"
    assert _field(await upload_import(driver, "households", content, screen_year=1999)) == "screen_year"
    assert _field(await upload_import(driver, "households", content, colour="红")) == "colour"
    headers = await driver.headers(COUNTY_OFFICER)
    no_file = await driver.http.post(UPLOAD_PATH, data={"kind": "households", "mode": "row_by_row"}, headers=headers)
    assert _field(no_file) == "file"
    broken = await driver.http.post(
        UPLOAD_PATH, content=b"--x\r\nnot a part", headers=headers | {"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert _field(broken) == "请求"

    monkeypatch.setattr(settings, "import_max_bytes", 1024)
    too_large = await upload_import(driver, "households", content + b"#" * 1024)
    assert _field(too_large) == "file" and "文件不能超过1KB" in too_large.json()["detail"]["message"]
    jobs = await db_value(settings, "SELECT count(*) FROM import_jobs WHERE file_name = '农户.pdf'")
    assert jobs == 0


async def test_an_upload_past_the_configured_limit_is_cut_off_before_it_is_read_whole(
    settings: Settings, temporal: WorkflowEnvironment
) -> None:
    """IMPORT_MAX_BYTES of 64 KB: the body guard, not the route after spooling the whole file, refuses
    a 1 MB upload, naming the configured size."""
    own = settings.model_copy(update={"import_max_bytes": 64 * 1024})
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield INCOME_HEADING + b"\n"
        for n in range(64):  # 1 MB in 16 KB chunks
            sent.append(n)
            yield b"x" * (16 * 1024)

    async with api_for(own, temporal.client) as small:
        cut = await upload_import(small, "incomes", chunks(), name="限额.csv")
        assert cut.status_code == 413, cut.text
        assert cut.json()["detail"] == {"code": "body_too_large", "message": "导入文件不能超过64KB"}
        assert len(sent) < 16  # cut off past 64 KB and its allowance: the rest was never asked for
        assert await db_value(settings, "SELECT count(*) FROM import_jobs WHERE file_name = '限额.csv'") == 0
        # Under the limit the same API takes the file.
        assert (await upload_import(small, "incomes", _file([]), name="限额内.csv")).status_code == 201


async def test_read_errors_deep_in_a_file_are_reported_with_their_row_in_both_modes(
    driver: CaseDriver, settings: Settings
) -> None:
    """A byte outside UTF-8 at row 291 and a quote never closed at row 331, both past the first
    megabyte: row by row keeps every row before the quote but row 291 and finishes `truncated`;
    all or nothing takes nothing and is `rejected`. Neither fails its activity."""
    kept, untouched = await _registered(driver, settings, 2)
    for code, mode in ((kept, "row_by_row"), (untouched, "all_or_nothing")):
        lines = _incomes(code, 400, 4000)
        lines[289] = lines[289].replace(b"x", b"\xff", 1)  # row 291
        lines[329] = lines[329].replace(b",", b',"', 1)  # row 331: the rest is one field
        assert sum(map(len, lines[:289])) > MEGABYTE
        answer = await upload_import(driver, "incomes", _file(lines), mode=mode, name="收入.csv", screen_year=2050)
        assert answer.status_code == 201, answer.text
        job = await finished_job(driver, answer.json()["job_id"])
        refused = await rejections(driver, job["job_id"])
        assert [(row, field) for row, field, _ in refused] == [(291, "文件"), (331, "文件")], mode
        assert "UTF-8" in refused[0][2] and "引号不配对" in refused[1][2]
        held = await db_value(settings, "SELECT count(*) FROM household_incomes WHERE household_code = :c", c=code)
        if mode == "row_by_row":
            assert (job["status"], job["rows_read"], job["rows_changed"], job["rows_rejected"]) == (
                "truncated",
                330,
                328,
                2,
            )
            assert held == 328
            # What was taken is screened, as after a whole file (2050: the household's income is well above the line).
            runs = await eventually(
                partial(driver.get, COUNTY_OFFICER, "/api/v1/screening/runs", import_job=job["job_id"]),
                lambda answer: len(answer.json()) == 1,
                timeout=30,
            )
            assert runs.json()[0]["year"] == 2050
        else:
            assert (job["status"], job["rows_changed"], job["rows_rejected"]) == ("rejected", 0, 2)
            assert held == 0
