"""Evidence endpoints: upload (multipart) under the case or the monitoring period it proves, the
lists, and the download."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.deps import CurrentAccount, Resources, SessionDep
from services.api.errors import ERROR_RESPONSES, ERROR_SCHEMA
from services.api.evidence.download import evidence_file
from services.api.evidence.schemas import EvidenceList, EvidenceView
from services.api.evidence.service import (
    Upload,
    attach_to_case,
    attach_to_period,
    case_evidence,
    commit_evidence,
    evidence_view,
    period_evidence,
    readable_evidence,
)
from services.db.evidence import Evidence
from services.domain.evidence import NOTE_LENGTH, EvidenceKind
from services.domain.form_fields import Text
from services.domain.vocabulary import Step
from services.storage.evidence_store import EvidenceStore, evidence_store

router = APIRouter(prefix="/api/v1", tags=["evidence 证明材料"])

Kind = Annotated[EvidenceKind, Form(description="材料类别")]
TheFile = Annotated[UploadFile, File(description="JPEG、PNG 图片或 PDF（按内容识别），不超过 EVIDENCE_MAX_BYTES")]
Note = Annotated[str, Text(max_length=NOTE_LENGTH), Form(description="说明（可不填）")]
MAX_VISIT_NO = 10000  # far past a period's visits; the page's form holds to it too
_MULTIPART_EXAMPLE = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "examples": {
                    "承诺授权书": {"value": {"kind": "commitment", "file": "(签字后的授权书照片)", "note": ""}}
                }
            }
        }
    }
}
_CREATED: dict[int | str, dict[str, Any]] = {
    200: {"model": EvidenceView, "description": "同一文件已附在此处（重复提交）：原记录"},
    201: {"description": "已保存"},
}


@dataclass(frozen=True)
class Received:
    upload: Upload
    store: EvidenceStore
    max_bytes: int


async def received_file(kind: Kind, file: TheFile, resources: Resources, note: Note = "") -> Received:
    """The upload's parts both endpoints take. One byte past the limit is enough to know the file is
    too large: the rest is never read."""
    limit = resources.settings.evidence_max_bytes
    upload = Upload(kind=kind, content=await file.read(limit + 1), file_name=file.filename, note=note)
    return Received(upload, evidence_store(resources.settings), limit)


ReceivedFile = Annotated[Received, Depends(received_file)]


async def _answer(
    session: AsyncSession, store: EvidenceStore, response: Response, kept: tuple[Evidence, bool]
) -> dict[str, Any]:
    row, new = kept
    await commit_evidence(session, store, kept)
    response.status_code = 201 if new else 200
    return evidence_view(row)


@router.post(
    "/cases/{case_id}/evidence",
    status_code=201,
    response_model=EvidenceView,
    responses=_CREATED,
    summary="上传证明材料（承诺授权书、评议记录、公示照片等），附在案件的某一环节",
    openapi_extra=_MULTIPART_EXAMPLE,
)
async def upload_case_evidence(
    case_id: str,
    received: ReceivedFile,
    account: CurrentAccount,
    session: SessionDep,
    response: Response,
    step: Annotated[Step | None, Form(description="所证明的环节，默认当前环节")] = None,
) -> dict[str, Any]:
    r = received
    kept = await attach_to_case(session, r.store, account, case_id, r.upload, step, r.max_bytes)
    return await _answer(session, r.store, response, kept)


@router.post(
    "/monitoring/{monitoring_id}/evidence",
    status_code=201,
    response_model=EvidenceView,
    responses=_CREATED,
    summary="上传证明材料（走访照片等），附在监测期的某次走访",
    openapi_extra=_MULTIPART_EXAMPLE,
)
async def upload_monitoring_evidence(
    monitoring_id: str,
    received: ReceivedFile,
    account: CurrentAccount,
    session: SessionDep,
    response: Response,
    visit_no: Annotated[
        int | None, Form(ge=1, le=MAX_VISIT_NO, description="所证明的走访序号，不填为整个监测期")
    ] = None,
) -> dict[str, Any]:
    r = received
    kept = await attach_to_period(session, r.store, account, monitoring_id, r.upload, visit_no, r.max_bytes)
    return await _answer(session, r.store, response, kept)


@router.get("/cases/{case_id}/evidence", summary="案件的证明材料")
async def list_case_evidence(case_id: str, account: CurrentAccount, session: SessionDep) -> EvidenceList:
    rows = await case_evidence(session, account, case_id)
    return EvidenceList.model_validate({"items": [evidence_view(r) for r in rows]})


@router.get("/monitoring/{monitoring_id}/evidence", summary="监测期的证明材料")
async def list_monitoring_evidence(monitoring_id: str, account: CurrentAccount, session: SessionDep) -> EvidenceList:
    rows = await period_evidence(session, account, monitoring_id)
    return EvidenceList.model_validate({"items": [evidence_view(r) for r in rows]})


@router.get(
    "/evidence/{evidence_id}",
    response_class=Response,
    responses={
        200: {
            "description": "文件（图片直接显示，PDF 下载）",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in ("image/jpeg", "image/png", "application/pdf")
            },
        },
        422: {
            "description": ERROR_RESPONSES[422]["description"],
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        },
    },
    summary="下载证明材料",
)
async def download_evidence(
    evidence_id: str, account: CurrentAccount, session: SessionDep, resources: Resources
) -> Response:
    row = await readable_evidence(session, account, evidence_id)
    return await evidence_file(evidence_store(resources.settings), row)
