"""Keeping and reading evidence. A file is checked by its content before anything is kept; it is
attached to a case (at a step) or a monitoring period (at a visit) the uploader may act on, and
read only by the 四支队伍 and officers inside the area (the files carry ID numbers and signatures)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import CASEWORK_ROLES, TASK_ROLES, can_see, require_role
from services.api.errors import invalid, not_found
from services.api.evidence.storage_errors import UPLOAD_NOT_KEPT, storage_unavailable
from services.api.identification.service import visible_case
from services.api.monitoring.service import visible_period
from services.api.request_guards import size_text
from services.db.evidence import Evidence
from services.db.tables import Account, VisitRecord
from services.domain.evidence import ALLOWED_TYPES, EVIDENCE_KIND_LABELS, EvidenceKind, sniffed_type
from services.domain.form_fields import printable
from services.domain.identification.procedure import STEP_LABELS
from services.domain.vocabulary import Step
from services.storage.evidence_store import EvidenceStore
from services.storage.stored import EvidenceStorageUnavailable

FILE_FIELD = "file"
# Who attaches: to a case, those who act on cases; to a monitoring period, the 四支队伍 and officers.
CASE_ATTACHERS = CASEWORK_ROLES
PERIOD_ATTACHERS = TASK_ROLES


@dataclass(frozen=True)
class Upload:
    kind: EvidenceKind
    content: bytes  # at most one byte more than the limit: the caller reads no further
    file_name: str | None
    note: str = ""


def _checked(upload: Upload, max_bytes: int) -> tuple[str, str]:
    """(media type, extension), or a 422 naming the file field."""
    if not upload.content:
        raise invalid(FILE_FIELD, "文件为空，请重新拍照或选择文件")
    if len(upload.content) > max_bytes:
        raise invalid(FILE_FIELD, f"文件不能超过{size_text(max_bytes)}，请压缩后再上传")
    found = sniffed_type(upload.content[:8])
    if found is None:
        raise invalid(FILE_FIELD, f"只能上传{ALLOWED_TYPES}（按文件内容识别，改扩展名无效）")
    return found


def _shown_name(upload: Upload, extension: str) -> str:
    # Only the name's last part, without what cannot be stored or shown; a name is a label, never a path.
    name = printable((upload.file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip(), 100)
    return name or f"{EVIDENCE_KIND_LABELS[upload.kind]}.{extension}"


async def _keep(
    session: AsyncSession, store: EvidenceStore, account: Account, upload: Upload, max_bytes: int, place: dict[str, Any]
) -> tuple[Evidence, bool]:
    """The row kept for this file at this place, and whether it is new: the same file sent again to
    the same place (a resent form, a double tap) is kept once."""
    media_type, extension = _checked(upload, max_bytes)
    sha256 = hashlib.sha256(upload.content).hexdigest()
    if kept := await _kept(session, place["target"], sha256):
        return kept, False
    key = uuid.uuid4().hex
    storage_key = f"{place['village_code']}/{key}.{extension}"
    row = {
        **place,
        "evidence_id": key,
        "kind": upload.kind,
        "note": upload.note,
        "file_name": _shown_name(upload, extension),
        "media_type": media_type,
        "size_bytes": len(upload.content),
        "sha256": sha256,
        "storage_key": storage_key,
        "uploaded_by": account.username,
    }
    # The file goes first (a row never names a missing file); any failure after it removes it, the
    # caller's commit included (`commit_evidence`).
    try:
        await store.put(storage_key, upload.content)
    except EvidenceStorageUnavailable as error:  # nothing kept: no row either
        raise storage_unavailable(error, UPLOAD_NOT_KEPT) from error
    try:
        await session.exec(insert(Evidence).values(**row).on_conflict_do_nothing())
        kept = await _kept(session, place["target"], sha256)
    except BaseException:
        await store.delete(storage_key)
        raise
    assert kept is not None
    if kept.evidence_id != key:  # a race with the same file: the other request's row stands
        await store.delete(storage_key)
        return kept, False
    return kept, True


async def commit_evidence(session: AsyncSession, store: EvidenceStore, kept: tuple[Evidence, bool]) -> None:
    """Commits the upload's row; if the commit fails, the file written for it goes too."""
    written = kept[0].storage_key if kept[1] else None  # read before a failed commit expires the row
    try:
        await session.commit()
    except BaseException:
        if written:
            await store.delete(written)
        raise


async def _kept(session: AsyncSession, target: str, sha256: str) -> Evidence | None:
    query = select(Evidence).where(col(Evidence.target) == target, col(Evidence.sha256) == sha256)
    return (await session.exec(query)).first()


async def attach_to_case(
    session: AsyncSession,
    store: EvidenceStore,
    account: Account,
    case_id: str,
    upload: Upload,
    step: Step | None,
    max_bytes: int,
) -> tuple[Evidence, bool]:
    """At `step`, or the case's current step (a closed case: the case as a whole)."""
    record = await visible_case(session, account, case_id)
    require_role(account, *CASE_ATTACHERS)
    at = step or (record.step if record.step != Step.closed else None)
    place = {
        "household_code": record.household_code,
        "village_code": record.village_code,
        "case_id": case_id,
        "step": at,
        "target": f"case:{case_id}:{at or ''}",
    }
    return await _keep(session, store, account, upload, max_bytes, place)


async def attach_to_period(
    session: AsyncSession,
    store: EvidenceStore,
    account: Account,
    monitoring_id: str,
    upload: Upload,
    visit_no: int | None,
    max_bytes: int,
) -> tuple[Evidence, bool]:
    """At one of the period's recorded visits, or the period as a whole."""
    period = await visible_period(session, account, monitoring_id)
    require_role(account, *PERIOD_ATTACHERS)
    if visit_no is not None and await session.get(VisitRecord, (monitoring_id, visit_no)) is None:
        raise invalid("visit_no", "该监测期没有这次走访记录")
    place = {
        "household_code": period.household_code,
        "village_code": period.village_code,
        "monitoring_id": monitoring_id,
        "visit_no": visit_no,
        "target": f"monitoring:{monitoring_id}:{'' if visit_no is None else visit_no}",
    }
    return await _keep(session, store, account, upload, max_bytes, place)


def may_read_evidence(account: Account, village_code: str) -> bool:
    return account.role in TASK_ROLES and can_see(account, village_code)


def _require_reader(account: Account) -> None:
    require_role(account, *TASK_ROLES)


async def case_evidence(session: AsyncSession, account: Account, case_id: str) -> list[Evidence]:
    await visible_case(session, account, case_id)
    _require_reader(account)
    return await kept_evidence(session, case_id=case_id)


async def period_evidence(session: AsyncSession, account: Account, monitoring_id: str) -> list[Evidence]:
    await visible_period(session, account, monitoring_id)
    _require_reader(account)
    return await kept_evidence(session, monitoring_id=monitoring_id)


async def household_evidence(
    session: AsyncSession, account: Account, household_code: str, village_code: str
) -> list[Evidence]:
    """For the household file: empty for a reader who may see the household but not its evidence."""
    if not may_read_evidence(account, village_code):
        return []
    return await kept_evidence(session, household_code=household_code)


async def kept_evidence(session: AsyncSession, **attached_to: str) -> list[Evidence]:
    """The evidence of one case, period or household (`case_id=`, `monitoring_id=`, `household_code=`),
    oldest first; the caller has checked who reads it."""
    query = select(Evidence).order_by(col(Evidence.uploaded_at), col(Evidence.evidence_id))
    for column, value in attached_to.items():
        query = query.where(getattr(Evidence, column) == value)
    return list((await session.exec(query)).all())


async def readable_evidence(session: AsyncSession, account: Account, evidence_id: str) -> Evidence:
    row = await session.get(Evidence, evidence_id) if len(evidence_id) <= 40 else None
    if row is None or not can_see(account, row.village_code):
        raise not_found("没有找到该证明材料，或不在您的管辖区域内")
    _require_reader(account)
    return row


def evidence_view(row: Evidence, download_prefix: str = "/api/v1/evidence") -> dict[str, Any]:
    return {
        **row.model_dump(include=set(EVIDENCE_VIEW_FIELDS)),
        "kind_label": EVIDENCE_KIND_LABELS[EvidenceKind(row.kind)],
        "step_label": STEP_LABELS[Step(row.step)] if row.step else None,
        "download_url": f"{download_prefix}/{row.evidence_id}",
    }


EVIDENCE_VIEW_FIELDS = (
    "evidence_id",
    "household_code",
    "kind",
    "case_id",
    "step",
    "monitoring_id",
    "visit_no",
    "note",
    "file_name",
    "media_type",
    "size_bytes",
    "uploaded_by",
    "uploaded_at",
)
