"""Every recorded action on a case or a monitoring period (办理记录), from the audit log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.answers import Moment
from services.db.tables import AuditEntry
from services.domain.personal_data import masked_copy


class TimelineEntry(BaseModel):
    """One recorded action (办理记录); ID numbers and phones masked for readers who may not see them."""

    seq: int
    action: str
    actor: str
    role: str | None
    area_code: str
    at: Moment
    data: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


async def timeline(session: AsyncSession, record_id: str, show_personal_data: bool) -> list[TimelineEntry]:
    # The record's own events (numbered); other entries filed under it (task claims) have no seq.
    entries = (
        await session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.case_id) == record_id, col(AuditEntry.seq).is_not(None))
            .order_by(col(AuditEntry.seq))
        )
    ).all()
    shown = (lambda value: value) if show_personal_data else masked_copy
    return [
        TimelineEntry(
            seq=e.seq or 0,
            action=e.action,
            actor=e.actor_username,
            role=e.actor_role,
            area_code=e.actor_area_code,
            at=e.at,
            data=shown(e.data),
            before=shown(e.before),
            after=shown(e.after),
        )
        for e in entries
    ]
