"""Evidence on the pages: the upload forms of the case and monitoring pages (a phone's camera or a
scanned PDF), and the download behind the session cookie, through the API's own functions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from fastapi import APIRouter, Response
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData, UploadFile

from services.api.deps import AppResources, Resources, SessionDep
from services.api.errors import ApiError, invalid
from services.api.evidence.download import evidence_file
from services.api.evidence.service import (
    FILE_FIELD,
    Upload,
    commit_evidence,
    evidence_view,
    kept_evidence,
    may_read_evidence,
    readable_evidence,
)
from services.db.evidence import Evidence
from services.db.tables import Account, VisitRecord
from services.domain.evidence import EVIDENCE_KIND_LABELS, NOTE_LENGTH, EvidenceKind
from services.domain.form_fields import text_problem
from services.domain.identification.procedure import STEP_LABELS
from services.domain.vocabulary import Step
from services.storage.evidence_store import EvidenceStore, evidence_store
from services.web.deps import PageAccount
from services.web.form_posts import Problems
from services.web.forms import FormField
from services.web.pages import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)
# The steps a file may prove (the cross-check is the departments' answer; a closed case has no step).
STEPS_WITH_EVIDENCE = {s: STEP_LABELS[s] for s in Step if s not in (Step.cross_check, Step.closed)}


async def evidence_section(
    session: AsyncSession,
    account: Account,
    village_code: str,
    attachers: Collection[str],
    max_bytes: int,
    **attached_to: str,
) -> dict[str, Any]:
    """What the pages' evidence block shows: the files of the case or period (`kept_evidence`'s
    `case_id=` or `monitoring_id=`), read only for those who may read them, and whether the reader
    is one of the `attachers` who may attach one here."""
    readable = may_read_evidence(account, village_code)
    return {
        "items": [evidence_view(r, "/evidence") for r in await kept_evidence(session, **attached_to)]
        if readable
        else [],
        "kinds": EVIDENCE_KIND_LABELS,
        "attach": account.role in attachers,
        "max_mb": max_bytes // (1024 * 1024),
        "note_length": NOTE_LENGTH,
    }


async def visit_choices(session: AsyncSession, monitoring_id: str) -> list[tuple[str, str]]:
    """The places a period's evidence may prove: the period as a whole, or one of its visits."""
    query = select(col(VisitRecord.visit_no), col(VisitRecord.visited_on)).where(
        col(VisitRecord.monitoring_id) == monitoring_id
    )
    visits = (await session.exec(query.order_by(col(VisitRecord.visit_no)))).all()
    return [("", "整个监测期"), *((str(no), f"第{no}次走访（{on.isoformat()}）") for no, on in visits)]


# The upload form's fields (drawn by evidence.html), for its refusals to land beside them.
EVIDENCE_FORM = "evidence"
UPLOAD_FIELDS = [FormField(name, name, "text") for name in ("kind", "step", "visit_no", FILE_FIELD, "note")]
Attaching = Callable[[EvidenceStore, Upload, int], Awaitable[tuple[Evidence, bool]]]


async def refused_upload(
    posted: FormData, resources: AppResources, session: AsyncSession, attach: Attaching
) -> Problems | None:
    """Keeps the posted file where `attach` puts it and commits; None once kept, else the 422's
    problems for the page to show beside the upload form's fields (nothing kept, no file left)."""
    limit = resources.settings.evidence_max_bytes
    store = evidence_store(resources.settings)
    try:
        upload = await _posted_upload(posted, limit)
        await commit_evidence(session, store, await attach(store, upload, limit))
    except ApiError as refusal:
        if refusal.status_code != 422 or not isinstance(refusal.detail, dict):
            raise
        return list(refusal.detail["errors"])
    return None


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


@router.get("/evidence/{evidence_id}")
async def download(evidence_id: str, account: PageAccount, resources: Resources, session: SessionDep) -> Response:
    return await evidence_file(
        evidence_store(resources.settings), await readable_evidence(session, account, evidence_id)
    )
