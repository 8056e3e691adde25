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
Where this process wrote the event before, it knows the row already and writes the event in one
statement under the condition that the row is still as it wrote it (known_row.py); otherwise it
reads the row, locked, and writes in one transaction. Either way, a row that moved forward notifies
`case_recorded` (services/db/case_recorded.py) for the requests waiting on the case.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.db.case_recorded import notify
from services.db.engine import standalone
from services.db.tables import CaseRecord, CrossCheckRequestRecord
from services.domain.changes import apply_changes, state_changes
from services.domain.identification.state import CaseEvent, CaseState
from services.domain.tasks import identification_tasks
from services.domain.vocabulary import HouseholdStatus, Outcome
from services.workers.identification.known_row import RETIRE_REQUESTS, LastWritten, record_on_known_row
from services.workers.read_model import HOUSEHOLD_STATUS, audited_upsert, forward_upsert, household_params
from services.workers.tasks import TaskSource, sync_params, sync_tasks

# The case row as of the event before, locked until the event is recorded.
_ROW_FOR_UPDATE = (
    select(col(CaseRecord.last_seq), col(CaseRecord.state))
    .where(col(CaseRecord.case_id) == bindparam("case_id"))
    .with_for_update()
)


# Requests waiting for the case to change are woken (services/api/case_changes.py), at commit.
_NOTIFY = select(
    notify(bindparam("case_id", type_=String()), bindparam("seq", type_=Integer()), bindparam("step", type_=String()))
)


class CaseRecordActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine, self._standalone = engine, standalone(engine)
        self._written = LastWritten()

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
        if event.state is not None:
            written = event.state.model_dump(mode="json")
            async with self._engine.begin() as conn:
                moved_forward = await _write_read_model(conn, event, event.state, written, None)
            if moved_forward:
                self._written.wrote(event.state.case_id, event.seq, written)
            return
        known = self._written.as_of(event.case_id, event.seq - 1)
        if known is not None:
            state, written, audited = _applied(known, event)
            async with self._standalone.connect() as conn:
                if await _write_on_known_row(conn, audited, state, written):
                    self._written.wrote(event.case_id, event.seq, written)
                    return
            self._written.forget(event.case_id)  # someone else wrote since: read the row
        async with self._engine.begin() as conn:
            row = (await conn.execute(_ROW_FOR_UPDATE, {"case_id": event.case_id})).first()
            if row is not None and row.last_seq >= event.seq:
                return  # a retry of an event already recorded
            if row is None or row.last_seq != event.seq - 1:  # retrying cannot bring it: visible, for a developer
                raise ApplicationError(
                    f"case {event.case_id}: event {event.seq} follows an event not recorded",
                    type="MissingEvents",
                    non_retryable=True,
                )
            state, written, audited = _applied(row.state, event)
            await _write_read_model(conn, audited, state, written, _changed(audited))
        self._written.wrote(event.case_id, event.seq, written)


def _applied(prior: dict[str, Any], event: CaseEvent) -> tuple[CaseState, dict[str, Any], CaseEvent]:
    """The case's state as of `event`, from its row's state `prior` (as of the event before) with the
    event's changes applied: the state, its dump (the row's new `state`), and the event with what
    changed (old and new values) for the audit."""
    document = apply_changes(prior, event.before or {}, event.after or {})
    state = CaseState.model_validate({**document, "seq": event.seq})
    written = state.model_dump(mode="json")
    before, after = state_changes(prior, written)
    return state, written, event.model_copy(update={"before": before, "after": after})


def _changed(event: CaseEvent) -> set[str]:
    """The state's fields an event (its audit's `before` and `after` worked out) changed."""
    return {*(event.before or {}), *(event.after or {})}


def _case_row(event: CaseEvent, state: CaseState, written: dict[str, Any]) -> dict[str, Any]:
    return {
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
        "state": written,
    }


def _household_status(state: CaseState) -> dict[str, Any] | None:
    """The household's new status, when the case made it a monitoring target."""
    if state.outcome != Outcome.monitoring_target:
        return None
    category = state.verification.proposed_category if state.verification else None
    return household_params(state.household_code, HouseholdStatus.risk_not_eliminated, category)


async def _write_on_known_row(
    conn: AsyncConnection, event: CaseEvent, state: CaseState, written: dict[str, Any]
) -> bool:
    """`record_on_known_row` of the event, with the same writes as `_write_read_model`."""
    changed = _changed(event)
    tasks = sync_params(
        _task_source(event, state), identification_tasks(state), event.seq, event.at, event.actor.username, "task"
    )
    requests = _request_rows(event, state) if _moves_requests(changed, state) and _has_requests(state) else None
    row = _case_row(event, state, written)
    return await record_on_known_row(conn, event, row, tasks, requests, _household_status(state))


async def _write_read_model(
    conn: AsyncConnection, event: CaseEvent, state: CaseState, written: dict[str, Any], changed: set[str] | None
) -> bool:
    """The audit entry and the case row in one statement, then what follows from them; `changed`:
    the state's fields the event changed (None: the whole state is new to the row). Whether the
    row moved forward (it was as of an earlier event)."""
    row = _case_row(event, state, written)
    moved_forward = await audited_upsert(conn, CaseRecord, "case_id", row, "case", event)
    if moved_forward:
        await sync_tasks(
            conn, _task_source(event, state), identification_tasks(state), event.seq, event.at, event.actor.username
        )
    if changed is None or _moves_requests(changed, state):
        await _write_cross_check_requests(conn, event, state)
    household = _household_status(state)
    if household is not None:
        await conn.execute(HOUSEHOLD_STATUS, household)
    if moved_forward:
        await conn.execute(_NOTIFY, {"case_id": state.case_id, "seq": event.seq, "step": str(state.step)})
    return moved_forward


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


def _has_requests(state: CaseState) -> bool:
    """Whether the case may have request rows (none exist before its first round)."""
    return not (state.cross_check is None and state.is_open and state.verification_round == 1)


async def _write_cross_check_requests(conn: AsyncConnection, event: CaseEvent, state: CaseState) -> None:
    """The case's cross-check requests, as the callback endpoint and the officers' task list read them.
    Like the case row, a request row only moves forward (by `last_seq`)."""
    if not _has_requests(state):
        return
    rows = _request_rows(event, state)
    if rows:
        await forward_upsert(conn, CrossCheckRequestRecord, ("request_id",), rows)
    current = [row["request_id"] for row in rows]
    await conn.execute(RETIRE_REQUESTS, {"request_case_id": state.case_id, "current": current, "seq": event.seq})
