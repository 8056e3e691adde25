"""Evidence through the API: kept only when its content is a JPEG, PNG or PDF within the size
limit, attached to the case's step or the period's visit, listed in the household file, and read
only by the 四支队伍 and officers inside the area, never as something a browser would run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.api.errors import ApiError
from services.api.evidence.service import Upload, _checked
from services.api.request_guards import size_text
from services.demo_case import ADMIN, COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, county_today
from services.demo_monitoring import MonitoringDriver, visit
from services.domain.evidence import EvidenceKind
from services.settings import Settings
from tests.conftest import NewHousehold
from tests.evidence.files import DISGUISED_PAGE, photo, scanned_pdf

OTHER_VILLAGE_CADRE = "huochangwan.cadre"
OTHER_TOWNSHIP = "qingyangcha.approver"
VILLAGE_TEAM = "dongkeng.team"  # 驻村工作队: visits and support work, no case actions


async def _upload(
    evidence_api: CaseDriver, who: str, path: str, content: bytes, name: str = "photo.jpg", **fields: Any
) -> httpx.Response:
    files = {"file": (name, content, "image/jpeg")}
    data = {"kind": "commitment", **{k: str(v) for k, v in fields.items()}}
    return await evidence_api.http.post(path, files=files, data=data, headers=await evidence_api.headers(who))


def _refused_field(answer: httpx.Response, field: str) -> str:
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]["errors"]
    assert problem["field"] == field, problem
    return str(problem["message"])


async def test_case_evidence_checked_by_content_and_read_inside_the_area(
    evidence_api: CaseDriver, new_household: NewHousehold, settings: Settings, other_county: dict[str, str]
) -> None:
    code = await new_household()
    case_id = (await evidence_api.open_case(code))["case_id"]
    at = f"/api/v1/cases/{case_id}/evidence"

    signed = photo()
    kept = await _upload(evidence_api, VILLAGE_CADRE, at, signed, name="../../承诺书.jpg", note="户主签字")
    assert kept.status_code == 201, kept.text
    first = kept.json()
    assert first["step"] == "home_verification" and first["kind_label"] == "承诺授权书"
    assert first["media_type"] == "image/jpeg" and first["file_name"] == "承诺书.jpg", first
    again = await _upload(evidence_api, VILLAGE_CADRE, at, signed)  # a resent form: kept once
    assert again.status_code == 200 and again.json()["evidence_id"] == first["evidence_id"]
    minutes = await _upload(
        evidence_api, VILLAGE_CADRE, at, scanned_pdf(), name="评议记录", kind="review_minutes", step="democratic_review"
    )
    assert minutes.status_code == 201 and minutes.json()["media_type"] == "application/pdf", minutes.text

    # Refused by content, size or field, in Chinese, and nothing kept.
    assert "JPEG" in _refused_field(await _upload(evidence_api, VILLAGE_CADRE, at, DISGUISED_PAGE), "file")
    too_large = signed[:3] + b"\0" * settings.evidence_max_bytes
    limit = size_text(settings.evidence_max_bytes)  # "10MB"
    assert limit in _refused_field(await _upload(evidence_api, VILLAGE_CADRE, at, too_large), "file")
    _refused_field(await _upload(evidence_api, VILLAGE_CADRE, at, b""), "file")
    _refused_field(await _upload(evidence_api, VILLAGE_CADRE, at, photo(colour="red"), kind="selfie"), "kind")
    _refused_field(await _upload(evidence_api, VILLAGE_CADRE, at, photo(colour="red"), note="a\x00b"), "note")
    listed = await evidence_api.get(VILLAGE_CADRE, at)
    assert [e["kind"] for e in listed.json()["items"]] == ["commitment", "review_minutes"], listed.text

    # Download: the sniffed type, not to be sniffed again, no scripts; a PDF is saved, not opened.
    image = await evidence_api.get(TOWNSHIP_APPROVER, first["download_url"])
    assert image.status_code == 200 and image.content == signed
    assert image.headers["content-type"] == "image/jpeg" and image.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in image.headers["content-security-policy"] and image.headers["content-disposition"].startswith(
        "inline"
    )
    pdf = await evidence_api.get(COUNTY_OFFICER, minutes.json()["download_url"])
    assert pdf.headers["content-type"] == "application/pdf" and pdf.headers["content-disposition"].startswith(
        "attachment"
    )

    # The household file lists them for those who may read them.
    listed_in_file = (await evidence_api.get(VILLAGE_CADRE, f"/api/v1/households/{code}/file")).json()["evidence"]
    assert [e["evidence_id"] for e in listed_in_file] == [first["evidence_id"], minutes.json()["evidence_id"]]

    # Outside the area: as if it did not exist; inside it, a role without casework: may not attach to the case.
    for reader in (OTHER_VILLAGE_CADRE, OTHER_TOWNSHIP, other_county["county_officer"]):
        for path in (at, first["download_url"]):
            assert (await evidence_api.get(reader, path)).status_code == 404, (reader, path)
        assert (await _upload(evidence_api, reader, at, photo(colour="blue"))).status_code == 404, reader
    assert (await _upload(evidence_api, VILLAGE_TEAM, at, photo(colour="blue"))).status_code == 403
    assert (await evidence_api.get(VILLAGE_TEAM, first["download_url"])).status_code == 200
    assert (
        await evidence_api.get(ADMIN, first["download_url"])
    ).status_code == 403  # the admin manages accounts, not cases
    assert (await evidence_api.get(ADMIN, f"/api/v1/households/{code}/file")).json().get("evidence", []) == []
    assert (await evidence_api.http.get(first["download_url"])).status_code == 401
    assert len((await evidence_api.get(VILLAGE_CADRE, at)).json()["items"]) == 2


async def test_a_visit_photo_attached_to_its_visit(evidence_api: CaseDriver, new_household: NewHousehold) -> None:
    code = await new_household()
    monitoring_id = await _monitored_with_one_visit(evidence_api, code)
    at = f"/api/v1/monitoring/{monitoring_id}/evidence"

    png = photo("PNG")
    kept = await _upload(evidence_api, VILLAGE_TEAM, at, png, name="走访.png", kind="visit_photo", visit_no=1)
    assert kept.status_code == 201 and kept.json()["visit_no"] == 1 and kept.json()["media_type"] == "image/png"
    message = _refused_field(
        await _upload(evidence_api, VILLAGE_TEAM, at, png, kind="visit_photo", visit_no=2), "visit_no"
    )
    assert "走访" in message
    _refused_field(await _upload(evidence_api, VILLAGE_TEAM, at, png, kind="visit_photo", visit_no=2**40), "visit_no")
    listed = (await evidence_api.get(VILLAGE_CADRE, at)).json()["items"]
    assert [e["evidence_id"] for e in listed] == [kept.json()["evidence_id"]]
    assert (await evidence_api.get(OTHER_VILLAGE_CADRE, at)).status_code == 404
    in_file = (await evidence_api.get(TOWNSHIP_APPROVER, f"/api/v1/households/{code}/file")).json()["evidence"]
    assert [(e["monitoring_id"], e["visit_no"]) for e in in_file] == [(monitoring_id, 1)]


async def _monitored_with_one_visit(evidence_api: CaseDriver, household_code: str) -> str:
    """A monitoring target of the demo village with one visit recorded by its village cadre."""
    monitoring = MonitoringDriver(evidence_api)
    await evidence_api.publish_notice_seconds(0.5)
    case_id = await monitoring.to_notice(household_code)
    await evidence_api.wait_for_step(case_id, "township_review")
    await evidence_api.after_notice(case_id)
    monitoring_id = str((await monitoring.period_of(household_code))["monitoring_id"])
    await monitoring.act(VILLAGE_CADRE, monitoring_id, "visits", visit(county_today()))
    return monitoring_id


def test_a_limit_that_is_no_whole_megabyte_is_named_as_it_is() -> None:
    """EVIDENCE_MAX_BYTES may be any size from 1 KB: its refusal never reads 0MB."""
    with pytest.raises(ApiError) as refused:
        _checked(Upload(kind=EvidenceKind.commitment, content=b"\xff" * 513 * 1024, file_name="a.jpg"), 512 * 1024)
    assert refused.value.detail["errors"] == [{"field": "file", "message": "文件不能超过512KB，请压缩后再上传"}]
