"""Activities that write a case's events into PostgreSQL.

Both writes are idempotent, so a retried activity never writes twice: the
audit entry is keyed by (case_id, seq), and the read model only moves forward
(an older event never overwrites a newer one, whatever order retries land in).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from temporalio import activity

from services.db.tables import AuditEntry, CaseRecord, CrossCheckRequestRecord, Household
from services.domain.case_state import CaseEvent, CaseState
from services.domain.vocabulary import HouseholdStatus, Outcome
from services.workflows.identification import RECORD_CASE_EVENT

# Called after a case's closing event is written (again on a retry: hooks must be idempotent).
ClosedCaseHook = Callable[[CaseState], Awaitable[None]]


class CaseRecordActivities:
    def __init__(self, engine: AsyncEngine, on_closed: Sequence[ClosedCaseHook] = ()) -> None:
        self._engine = engine
        self._on_closed = tuple(on_closed)

    @activity.defn(name=RECORD_CASE_EVENT)
    async def record_case_event(self, event: CaseEvent) -> None:
        state = event.state
        row = {
            "case_id": state.case_id,
            "workflow_id": event.workflow_id,
            "run_id": event.run_id,
            "household_code": state.household_code,
            "county_code": state.county_code,
            "township_code": state.township_code,
            "village_code": state.village_code,
            "channel": state.channel,
            "step": state.step,
            "outcome": state.outcome,
            "policy_version": state.policy_version,
            "opened_at": state.opened_at,
            "due_at": state.due_at,
            "step_due_at": state.step_due_at,
            "closed_at": state.closed_at,
            "last_seq": event.seq,
            "state": state.model_dump(mode="json"),
        }
        upsert = insert(CaseRecord).values(row)
        upsert = upsert.on_conflict_do_update(
            index_elements=[CaseRecord.case_id],
            set_={k: upsert.excluded[k] for k in row if k != "case_id"} | {"updated_at": upsert.excluded.updated_at},
            where=CaseRecord.last_seq < upsert.excluded.last_seq,
        )
        audit = (
            insert(AuditEntry)
            .values(
                case_id=state.case_id,
                seq=event.seq,
                action=event.action,
                actor_username=event.actor.username,
                actor_role=event.actor.role,
                actor_area_code=event.actor.area_code,
                at=event.at,
                data=event.data,
            )
            .on_conflict_do_nothing(constraint="uq_audit_case_seq")
        )
        async with self._engine.begin() as conn:
            await conn.execute(audit)
            await conn.execute(upsert)
            await _write_cross_check_requests(conn, event)
            if state.outcome == Outcome.monitoring_target:
                category = state.verification.proposed_category if state.verification else None
                await conn.execute(
                    update(Household)
                    .where(Household.code == state.household_code)
                    .values(status=HouseholdStatus.risk_not_eliminated, category=category)
                )
        if state.outcome is not None:
            for hook in self._on_closed:
                await hook(state)


def _request_rows(event: CaseEvent) -> list[dict[str, Any]]:
    state, round_ = event.state, event.state.cross_check
    if round_ is None:
        return []
    return [
        {
            "request_id": request_id,
            "case_id": state.case_id,
            "workflow_id": event.workflow_id,
            "run_id": event.run_id,
            "task_queue": event.task_queue,
            "household_code": state.household_code,
            "county_code": state.county_code,
            "township_code": state.township_code,
            "village_code": state.village_code,
            "department": department,
            "round": round_.round,
            "status": request.status,
            "is_latest": request_id == request.request_id,
            "is_live": state.is_open,
            "requested_at": request.requested_at,
            "respond_by": request.respond_by,
            "answered_at": request.answered_at,
            "last_seq": event.seq,
        }
        for department, request in round_.requests.items()
        for request_id in request.request_ids
    ]


async def _write_cross_check_requests(conn: AsyncConnection, event: CaseEvent) -> None:
    """The case's cross-check requests, as the callback endpoint and the officers' task list read them.
    Like the case row, a request row only moves forward (by `last_seq`)."""
    state = event.state
    if state.cross_check is None and state.is_open and state.verification_round == 1:
        return  # no request exists yet
    rows = _request_rows(event)
    if rows:
        upsert = insert(CrossCheckRequestRecord).values(rows)
        upsert = upsert.on_conflict_do_update(
            index_elements=[CrossCheckRequestRecord.request_id],
            set_={k: upsert.excluded[k] for k in rows[0] if k != "request_id"},
            where=CrossCheckRequestRecord.last_seq < upsert.excluded.last_seq,
        )
        await conn.execute(upsert)
    # Requests of earlier rounds (an upheld objection restarted verification) no longer await anything.
    current = [row["request_id"] for row in rows]
    await conn.execute(
        update(CrossCheckRequestRecord)
        .where(CrossCheckRequestRecord.case_id == state.case_id, CrossCheckRequestRecord.is_live,
               CrossCheckRequestRecord.request_id.not_in(current), CrossCheckRequestRecord.last_seq < event.seq)
        .values(is_live=False, last_seq=event.seq)
    )
