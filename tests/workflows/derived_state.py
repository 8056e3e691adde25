"""A case's state derived from its audit: a state as of an earlier event (none: {}) with the
`before`/`after` of each event since applied in order (services/domain/changes.py).

The test's own rebuild, independent of the record activity (services/workers/identification/records.py,
which applies each event's changes to the row): the read model must come out the same from the audit
alone (test_read_model_from_events.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from services.db.tables import AuditEntry
from services.domain.changes import apply_changes
from services.domain.identification.state import CaseState


class MissingEvents(Exception):
    """An event between the row and the one to record is not in the audit (a bug: events are written in order)."""


async def derived_state(
    conn: AsyncConnection, case_id: str, document: dict[str, Any], since: int, upto: int
) -> CaseState:
    """The state as of event `upto`, from `document` (the state as of event `since`; {} for none)
    and the audit entries of the events after it."""
    entries = (
        await conn.execute(
            select(col(AuditEntry.seq), col(AuditEntry.before), col(AuditEntry.after))
            .where(
                col(AuditEntry.case_id) == case_id,
                col(AuditEntry.subject_type) == "case",
                col(AuditEntry.seq) > since,
                col(AuditEntry.seq) <= upto,
            )
            .order_by(col(AuditEntry.seq))
        )
    ).all()
    if [e.seq for e in entries] != list(range(since + 1, upto + 1)):
        missing = sorted(set(range(since + 1, upto + 1)) - {e.seq for e in entries})
        raise MissingEvents(f"case {case_id}: events {missing} are not recorded")
    for entry in entries:
        document = apply_changes(document, entry.before or {}, entry.after or {})
    return CaseState.model_validate({**document, "seq": upto})
