"""Appending to the audit log (services/db/tables.py::AuditEntry) from anywhere but a case's
own events (those come from the workflow, services/workers/identification/records.py). The caller's
transaction carries the entry, so the audit and the change it describes land together."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic_core import to_jsonable_python
from sqlalchemy import func, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db.tables import AuditEntry
from services.domain.changes import changes


class Acting(Protocol):
    """Who acts: an account, or a workflow's actor (both carry these)."""

    username: str
    role: Any
    area_code: str


async def append_audit(
    db: AsyncSession | AsyncConnection,
    actor: Acting,
    action: str,
    subject_type: str,
    subject_id: str,
    data: dict[str, Any],
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    case_id: str | None = None,
) -> None:
    """One entry; `before` and `after` are whole states of the subject, kept as their differing parts."""
    old, new = changes(to_jsonable_python(before or {}), to_jsonable_python(after or {}))
    data = to_jsonable_python(data)
    await db.execute(
        insert(AuditEntry).values(
            case_id=case_id,
            subject_type=subject_type,
            subject_id=subject_id,
            action=action,
            actor_username=actor.username,
            actor_role=actor.role,
            actor_area_code=actor.area_code,
            at=func.now(),
            data=data,
            before=old if before is not None else None,
            after=new if after is not None else None,
        )
    )
