"""Evidence on the pages: the upload forms of the case and monitoring pages (a phone's camera or a
scanned PDF), and the download behind the session cookie, through the API's own functions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData, UploadFile

from services.api.deps import Resources, SessionDep
from services.api.errors import invalid
from services.api.evidence.download import evidence_file
from services.api.evidence.service import (
    CASE_ATTACHERS,
    FILE_FIELD,
    PERIOD_ATTACHERS,
    Upload,
    attach_to_case,
    attach_to_period,
    evidence_view,
    may_read_evidence,
    readable_evidence,
)
from services.db.evidence import Evidence
from services.db.tables import Account, VisitRecord
from services.domain.evidence import EVIDENCE_KIND_LABELS, NOTE_LENGTH, EvidenceKind
from services.domain.form_fields import text_problem
from services.domain.identification.procedure import STEP_LABELS
from services.domain.vocabulary import Step
from services.storage.evidence_store import evidence_store
from services.web.deps import PageAccount, PostedForm
from services.web.pages import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)
# The steps a file may prove (the cross-check is the departments' answer; a closed case has no step).
STEPS_WITH_EVIDENCE = {s: STEP_LABELS[s] for s in Step if s not in (Step.cross_check, Step.closed)}


def evidence_section(
    account: Account, village_code: str, rows: list[Evidence], attach: bool, max_bytes: int
) -> dict[str, Any]:
    """What the pages' evidence block shows: the files (to those who may read them) and whether the
    reader may attach one here."""
    return {
        "items": [evidence_view(r, "/evidence") for r in rows] if may_read_evidence(account, village_code) else [],
        "kinds": EVIDENCE_KIND_LABELS,
        "attach": attach,
        "max_mb": max_bytes // (1024 * 1024),
        "note_length": NOTE_LENGTH,
    }


def case_attachers(account: Account) -> bool:
    return account.role in CASE_ATTACHERS


def period_attachers(account: Account) -> bool:
    return account.role in PERIOD_ATTACHERS


async def visit_choices(session: AsyncSession, monitoring_id: str) -> list[tuple[str, str]]:
    """The places a period's evidence may prove: the period as a whole, or one of its visits."""
    query = select(col(VisitRecord.visit_no), col(VisitRecord.visited_on)).where(
        col(VisitRecord.monitoring_id) == monitoring_id
    )
    visits = (await session.exec(query.order_by(col(VisitRecord.visit_no)))).all()
    return [("", "整个监测期"), *((str(no), f"第{no}次走访（{on.isoformat()}）") for no, on in visits)]


async def _posted_upload(posted: FormData, max_bytes: int) -> Upload:
    """The form's file and fields, each refused with its name like the API's multipart fields."""
    kind, note, file = posted.get("kind"), posted.get("note") or "", posted.get(FILE_FIELD)
    if kind not in set(EvidenceKind):
        raise invalid("kind", "请选择材料类别")
    if not isinstance(note, str) or len(note) > NOTE_LENGTH or text_problem(note):
        raise invalid("note", f"说明不能超过{NOTE_LENGTH}字，且不能含有控制字符或换行")
    if not isinstance(file, UploadFile):
        raise invalid(FILE_FIELD, "请拍照或选择文件")
    return Upload(EvidenceKind(str(kind)), await file.read(max_bytes + 1), file.filename, note.strip())


@router.post("/cases/{case_id}/evidence")
async def attach_case_evidence(
    case_id: str, posted: PostedForm, account: PageAccount, resources: Resources, session: SessionDep
) -> Response:
    step = posted.get("step") or None
    if step is not None and step not in set(Step):
        raise invalid("step", "请选择所证明的环节")
    limit = resources.settings.evidence_max_bytes
    upload = await _posted_upload(posted, limit)
    store = evidence_store(resources.settings)
    await attach_to_case(session, store, account, case_id, upload, Step(step) if step else None, limit)
    return await _back(session, f"/cases/{case_id}#evidence")


@router.post("/monitoring/{monitoring_id}/evidence")
async def attach_period_evidence(
    monitoring_id: str, posted: PostedForm, account: PageAccount, resources: Resources, session: SessionDep
) -> Response:
    visit = posted.get("visit_no") or None
    if visit is not None and not (isinstance(visit, str) and visit.isdigit() and 0 < len(visit) <= 5):
        raise invalid("visit_no", "请选择所证明的走访")
    limit = resources.settings.evidence_max_bytes
    upload = await _posted_upload(posted, limit)
    store = evidence_store(resources.settings)
    await attach_to_period(session, store, account, monitoring_id, upload, int(visit) if visit else None, limit)
    return await _back(session, f"/monitoring/{monitoring_id}#evidence")


async def _back(session: AsyncSession, page: str) -> Response:
    await session.commit()
    return RedirectResponse(page, status_code=303)


@router.get("/evidence/{evidence_id}")
async def download(evidence_id: str, account: PageAccount, resources: Resources, session: SessionDep) -> Response:
    return await evidence_file(
        evidence_store(resources.settings), await readable_evidence(session, account, evidence_id)
    )
