"""Activities that write a case's events into PostgreSQL.

Every write is idempotent, so a retried activity never writes twice: the audit
entry is keyed by (case_id, seq), and the read model only moves forward (an
older event never overwrites a newer one, whatever order retries land in). The
case's open tasks follow the read model in the same transaction: written only
when the case row moved forward, so a step that is done leaves every inbox at once.
It only records: what other workflows must hear of a case (monitoring, self-reports), the
case's workflow tells them itself, so its history shows it (services/workflows/identification.py).

An event carries what changed, not the whole state (except where the workflow cannot know the row
is as of the event before): its new values and the keys they replace or remove. The workflow writes
a case's events one after another, so the new state is the row's with the event's changes applied,
and the audit's old values are the row's; a retry of an event already recorded changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, String, all_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.db.tables import CaseRecord, CrossCheckRequestRecord
from services.domain.changes import apply_changes, state_changes
from services.domain.identification.state import CaseEvent, CaseState
from services.domain.tasks import identification_tasks
from services.domain.vocabulary import HouseholdStatus, Outcome
from services.workers.read_model import audited_upsert, forward_upsert, set_household_status
from services.workers.tasks import TaskSource, sync_tasks

# The case row as of the event before, locked until the event is recorded.
_ROW_FOR_UPDATE = (
    select(col(CaseRecord.last_seq), col(CaseRecord.state))
    .where(col(CaseRecord.case_id) == bindparam("case_id"))
    .with_for_update()
)
# Requests of earlier rounds (an upheld objection restarted verification) no longer await anything.
_RETIRE_REQUESTS = (
    update(CrossCheckRequestRecord)
    .where(
        col(CrossCheckRequestRecord.case_id) == bindparam("request_case_id"),
        col(CrossCheckRequestRecord.is_live),
        col(CrossCheckRequestRecord.request_id) != all_(bindparam("current", type_=ARRAY(String()))),
        col(CrossCheckRequestRecord.last_seq) < bindparam("seq"),
    )
    .values(is_live=False, last_seq=bindparam("seq"))
)


class CaseRecordActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="record_case_event")
    async def record_case_event(self, event: CaseEvent) -> None:
        info = activity.info()  # light events leave out what the activity knows: it runs for the case
        event = event.model_copy(
            update={
                "workflow_id": event.workflow_id or info.workflow_id,
                "run_id": event.run_id or info.workflow_run_id,
                "task_queue": event.task_queue or info.task_queue,
            }
        )
        async with self._engine.begin() as conn:
            if event.state is not None:
                await _write_read_model(conn, event, event.state, None)
                return
            derived = await _state_after(conn, event)
            if derived is None:
                return  # a retry of an event already recorded
            state, before, after = derived
            audited = event.model_copy(update={"before": before, "after": after})
            await _write_read_model(conn, audited, state, {*before, *after})


async def _state_after(conn: AsyncConnection, event: CaseEvent) -> tuple[CaseState, Any, Any] | None:
    """The case's state as of `event`, from its row (locked) as of the event before with the
    event's changes applied, and what changed (old and new values) for the audit; None if the row
    is as of this event or later already."""
    row = (await conn.execute(_ROW_FOR_UPDATE, {"case_id": event.case_id})).first()
    if row is not None and row.last_seq >= event.seq:
        return None
    if row is None or row.last_seq != event.seq - 1:  # retrying cannot bring it: visible, for a developer
        raise ApplicationError(
            f"case {event.case_id}: event {event.seq} follows an event not recorded",
            type="MissingEvents",
            non_retryable=True,
        )
    document = apply_changes(row.state, event.before or {}, event.after or {})
    state = CaseState.model_validate({**document, "seq": event.seq})
    before, after = state_changes(row.state, state.model_dump(mode="json"))
    return state, before, after


async def _write_read_model(
    conn: AsyncConnection, event: CaseEvent, state: CaseState, changed: set[str] | None
) -> None:
    """The audit entry and the case row in one statement, then what follows from them; `changed`:
    the state's fields the event changed (None: the whole state is new to the row)."""
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
    moved_forward = await audited_upsert(conn, CaseRecord, "case_id", row, "case", event)
    if moved_forward:
        await sync_tasks(
            conn, _task_source(event, state), identification_tasks(state), event.seq, event.at, event.actor.username
        )
    if changed is None or _moves_requests(changed, state):
        await _write_cross_check_requests(conn, event, state)
    if state.outcome == Outcome.monitoring_target:
        category = state.verification.proposed_category if state.verification else None
        await set_household_status(conn, state.household_code, HouseholdStatus.risk_not_eliminated, category)


def _task_source(event: CaseEvent, state: CaseState) -> TaskSource:
    return TaskSource(
        source="identification",
        case_id=state.case_id,
        workflow_id=event.workflow_id,
        household_code=state.household_code,
        county_code=state.county_code,
        township_code=state.township_code,
        village_code=state.village_code,
    )


# The state's fields a cross-check request row is made of (`_request_rows`), `step` only as
# `is_open`: an event that changes none of them leaves the rows as they are (two statements saved).
_REQUEST_FIELDS = frozenset(
    {"cross_check", "verification_round", "household_code", "county_code", "township_code", "village_code"}
)


def _moves_requests(changed: set[str], state: CaseState) -> bool:
    return not _REQUEST_FIELDS.isdisjoint(changed) or ("step" in changed and not state.is_open)


def _request_rows(event: CaseEvent, state: CaseState) -> list[dict[str, Any]]:
    round_ = state.cross_check
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


async def _write_cross_check_requests(conn: AsyncConnection, event: CaseEvent, state: CaseState) -> None:
    """The case's cross-check requests, as the callback endpoint and the officers' task list read them.
    Like the case row, a request row only moves forward (by `last_seq`)."""
    if state.cross_check is None and state.is_open and state.verification_round == 1:
        return  # no request exists yet
    rows = _request_rows(event, state)
    if rows:
        await forward_upsert(conn, CrossCheckRequestRecord, ("request_id",), rows)
    current = [row["request_id"] for row in rows]
    await conn.execute(_RETIRE_REQUESTS, {"request_case_id": state.case_id, "current": current, "seq": event.seq})
