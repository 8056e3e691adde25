"""What the store does under the API, in either store: a file larger than one read comes back
whole and streamed; a file gone from the store is a clear 404; and with S3, a write the server
refuses or cannot take (unknown key, no bucket, no server) is a 503 that keeps nothing, and a
read it cannot serve a 503 too."""

from __future__ import annotations

import os

import httpx
import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from services.db.evidence import Evidence
from services.demo_case import TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver
from services.devstack.servers import free_port
from services.settings import Settings
from services.storage.evidence_store import evidence_store
from services.storage.stored import CHUNK_BYTES
from tests.conftest import NewHousehold, driver_for
from tests.evidence.conftest import evidence_app
from tests.evidence.files import photo
from tests.evidence.s3rver import s3_settings, stored_keys


async def _upload(api: CaseDriver, case_id: str, content: bytes, name: str = "scan.pdf") -> httpx.Response:
    return await api.http.post(
        f"/api/v1/cases/{case_id}/evidence",
        files={"file": (name, content, "application/pdf")},
        data={"kind": "review_minutes"},
        headers=await api.headers(VILLAGE_CADRE),
    )


async def test_a_large_file_comes_back_whole(evidence_api: CaseDriver, new_household: NewHousehold) -> None:
    case_id = (await evidence_api.open_case(await new_household()))["case_id"]
    scan = b"%PDF-1.7\n" + os.urandom(3 * 1024 * 1024 + 17)  # many reads of the store, the last one short
    assert len(scan) > 10 * CHUNK_BYTES
    kept = await _upload(evidence_api, case_id, scan)
    assert kept.status_code == 201, kept.text
    answer = await evidence_api.get(TOWNSHIP_APPROVER, kept.json()["download_url"])
    assert answer.status_code == 200 and answer.headers["content-length"] == str(len(scan))
    assert answer.content == scan


async def test_a_file_gone_from_the_store_is_a_clear_404(
    evidence_api: CaseDriver, new_household: NewHousehold, evidence_settings: Settings, live_api: FastAPI
) -> None:
    case_id = (await evidence_api.open_case(await new_household()))["case_id"]
    kept = (await _upload(evidence_api, case_id, photo(colour="purple"), name="a.jpg")).json()
    async with live_api.state.resources.sessions() as session:
        row = await session.get(Evidence, kept["evidence_id"])
    assert row is not None
    await evidence_store(evidence_settings).delete(row.storage_key)  # removed by hand, or a bad restore

    answer = await evidence_api.get(TOWNSHIP_APPROVER, kept["download_url"])
    assert answer.status_code == 404, answer.text
    detail = answer.json()["detail"]
    assert detail["code"] == "evidence_file_missing" and "存储中找不到" in detail["message"]
    # The list still names it (the row is the record that it was provided), so it can be restored.
    listed = (await evidence_api.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/evidence")).json()["items"]
    assert [e["evidence_id"] for e in listed] == [kept["evidence_id"]]


@pytest.mark.parametrize(
    "broken",
    [
        {"evidence_s3_access_key": "NOT-A-KNOWN-KEY"},  # the server refuses the signature's key: 403
        {"evidence_s3_bucket": "no-such-bucket"},  # 404 NoSuchBucket
        {"evidence_s3_endpoint": "unreachable"},  # nothing listens there
    ],
    ids=["unknown-key", "no-bucket", "no-server"],
)
async def test_a_failed_s3_write_keeps_nothing(
    broken: dict[str, str],
    driver: CaseDriver,
    new_household: NewHousehold,
    settings: Settings,
    s3_endpoint: str,
    temporal: WorkflowEnvironment,
) -> None:
    working = s3_settings(settings, s3_endpoint)
    if broken.get("evidence_s3_endpoint") == "unreachable":
        broken = {"evidence_s3_endpoint": f"http://127.0.0.1:{free_port()}"}
    case_id = (await driver.open_case(await new_household()))["case_id"]
    async with evidence_app(working, temporal) as app, driver_for(app) as api:
        kept = (await _upload(api, case_id, photo(colour="orange"), name="a.jpg")).json()
    before = await stored_keys(working)

    async with evidence_app(s3_settings(settings, s3_endpoint, **broken), temporal) as app, driver_for(app) as api:
        # A file kept before cannot be read back either: the same 503, not a "missing file" 404.
        unread = await api.get(TOWNSHIP_APPROVER, kept["download_url"])
        assert unread.status_code == 503 and unread.json()["detail"]["code"] == "evidence_storage_unavailable"
        assert "文件仍在" in unread.json()["detail"]["message"]  # a failed read never asks to upload again
        answer = await _upload(api, case_id, b"%PDF-1.4\n" + os.urandom(2048))
        assert answer.status_code == 503, answer.text
        assert answer.json()["detail"]["code"] == "evidence_storage_unavailable"
        assert "文件未保存" in answer.json()["detail"]["message"] and answer.headers["retry-after"]
        # No row names a file that is not there: the case lists nothing.
        listed = (await api.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/evidence")).json()["items"]
        assert [e["evidence_id"] for e in listed] == [kept["evidence_id"]]
    assert await stored_keys(working) == before
