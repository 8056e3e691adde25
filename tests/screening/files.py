"""Import files for the screening tests: CSV and Excel built in memory, sent as the API takes them,
and household codes the register's own numbering will never hand out."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from openpyxl import Workbook
from sqlalchemy import text

from services.db.engine import create_engine
from services.db.screening import IMPORT_FINISHED
from services.demo_case import COUNTY_OFFICER, DEMO_VILLAGE, CaseDriver
from services.settings import Settings
from tests.applicants import eventually

Row = Sequence[Any]
UPLOAD_PATH = "/api/v1/screening/imports/upload"
FINISHED = IMPORT_FINISHED


def csv_file(rows: Sequence[Row]) -> bytes:
    return "".join(",".join("" if c is None else str(c) for c in row) + "\n" for row in rows).encode()


def xlsx_file(rows: Sequence[Row]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def send_import(
    driver: CaseDriver, kind: str, content: bytes, mode: str = "row_by_row", name: str = "data.csv", **extra: Any
) -> dict[str, Any]:
    body = {"kind": kind, "mode": mode, "file_name": name, "content_base64": base64.b64encode(content).decode()}
    answer = await driver.post(COUNTY_OFFICER, "/api/v1/screening/imports", body | extra)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def upload_import(
    driver: CaseDriver,
    kind: str,
    content: bytes | AsyncIterator[bytes],
    mode: str = "row_by_row",
    name: str = "data.csv",
    user: str = COUNTY_OFFICER,
    **fields: Any,
) -> httpx.Response:
    """The file as multipart/form-data (POST /screening/imports/upload); a stream of parts is sent
    chunked, without a Content-Length."""
    headers = await driver.headers(user)
    data = {"kind": kind, "mode": mode, **{k: str(v) for k, v in fields.items()}}
    if isinstance(content, bytes):
        files = {"file": (name, content, "application/octet-stream")}
        return await driver.http.post(UPLOAD_PATH, data=data, files=files, headers=headers)
    boundary = "import-test-boundary"
    headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    return await driver.http.post(UPLOAD_PATH, content=_multipart(boundary, data, name, content), headers=headers)


async def _multipart(
    boundary: str, data: dict[str, str], name: str, parts: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    for field, value in data.items():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n{value}\r\n'.encode()
    disposition = f'Content-Disposition: form-data; name="file"; filename="{name}"'
    yield f"--{boundary}\r\n{disposition}\r\nContent-Type: text/csv\r\n\r\n".encode()
    async for part in parts:
        yield part
    yield f"\r\n--{boundary}--\r\n".encode()


async def finished_job(driver: CaseDriver, job_id: int) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        return (await driver.get(COUNTY_OFFICER, f"/api/v1/screening/imports/{job_id}")).json()

    job = await eventually(read, lambda j: j["status"] in FINISHED, timeout=30)
    assert job["status"] in FINISHED, job
    return job


async def rejections(driver: CaseDriver, job_id: int) -> list[tuple[int, str, str]]:
    answer = await driver.get(COUNTY_OFFICER, f"/api/v1/screening/imports/{job_id}/rejections", limit=500)
    assert answer.status_code == 200, answer.text
    return [(r["row_number"], r["field"], r["message"]) for r in answer.json()["items"]]


async def fresh_codes(settings: Settings, count: int, village: str = DEMO_VILLAGE) -> list[str]:
    """Codes for households a file brings in, taken from the register's numbering so no other test meets them."""
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.begin() as conn:
        numbers = (
            await conn.execute(text("SELECT nextval('household_number_seq') FROM generate_series(1, :n)"), {"n": count})
        ).scalars()
        codes = [f"{village}{n:06d}" for n in numbers]
    await engine.dispose()
    return codes


async def db_value(settings: Settings, sql: str, **params: Any) -> Any:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.connect() as conn:
        value = (await conn.execute(text(sql), params)).scalar()
    await engine.dispose()
    return value
