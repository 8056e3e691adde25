"""Every recorded action on a case or a monitoring period (办理记录), from the audit log."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db.tables import AuditEntry
from services.domain.personal_data import masked_copy


async def timeline(session: AsyncSession, record_id: str, show_personal_data: bool) -> list[dict[str, Any]]:
    # The record's own events (numbered); other entries filed under it (task claims) have no seq.
    entries = (
        await session.exec(
            select(AuditEntry)
            .where(AuditEntry.case_id == record_id, AuditEntry.seq.is_not(None))
            .order_by(AuditEntry.seq)
        )
    ).all()
    return [
        {
            "seq": e.seq,
            "action": e.action,
            "actor": e.actor_username,
            "role": e.actor_role,
            "area_code": e.actor_area_code,
            "at": e.at,
            "data": e.data if show_personal_data else masked_copy(e.data),
            "before": e.before if show_personal_data else masked_copy(e.before),
            "after": e.after if show_personal_data else masked_copy(e.after),
        }
        for e in entries
    ]
