"""Idempotent writes shared by the activities that record workflow events.

An audit entry is keyed by (record id, seq), so a retried activity never writes it
twice; a read-model row only moves forward (an older event never overwrites a newer
one, whatever order retries land in).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.sql.dml import ReturningInsert

from services.db.tables import AuditEntry
from services.domain.identification.state import RecordedEvent


def audit_entry(subject_type: str, record_id: str, event: RecordedEvent) -> Insert:
    """The append-only audit row of `event`, filed under a case's or a monitoring period's id
    (`subject_type` `case` or `monitoring`), with what the event changed where the workflow works it out."""
    return (
        insert(AuditEntry)
        .values(
            case_id=record_id,
            seq=event.seq,
            subject_type=subject_type,
            subject_id=record_id,
            action=event.action,
            actor_username=event.actor.username,
            actor_role=event.actor.role,
            actor_area_code=event.actor.area_code,
            at=event.at,
            data=event.data,
            before=event.before,
            after=event.after,
        )
        .on_conflict_do_nothing(constraint="uq_audit_case_seq")
    )


def forward_upsert(model: Any, keys: list[str], rows: dict[str, Any] | list[dict[str, Any]]) -> Insert:
    """Inserts each row, or updates the existing one where the row's `last_seq` is newer."""
    upsert = insert(model).values(rows)
    columns = rows[0] if isinstance(rows, list) else rows
    updated = {k: upsert.excluded[k] for k in columns if k not in keys}
    if "updated_at" in model.__table__.columns:
        updated["updated_at"] = upsert.excluded.updated_at
    return upsert.on_conflict_do_update(
        index_elements=[getattr(model, k) for k in keys],
        set_=updated,
        where=model.last_seq < upsert.excluded.last_seq,
    )


def audited_upsert(
    model: Any, key: str, row: dict[str, Any], subject_type: str, event: RecordedEvent
) -> ReturningInsert[Any]:
    """`forward_upsert` of the read-model row keyed by `key` (answering its key when it moved forward),
    with the event's audit entry written by the same statement: one round trip for both."""
    audit = audit_entry(subject_type, row[key], event).cte("audited")
    return forward_upsert(model, [key], row).returning(getattr(model, key)).add_cte(audit)
