"""Recording a case event in one statement, when the worker knows the case's row as of the event before.

A case's workflow records its events one after another, as local activities of the worker process
that runs it, so the state this process wrote last for a case is, nearly always, the row its next
event applies to. Then the row, its audit entry, the case's open tasks, its cross-check requests and
the household's status are written by one statement in autocommit, all under one condition: that the
row is still as of the event before. If it is not (another process wrote since, or nothing was
written), the statement writes nothing and the caller takes the locked path, which reads the row
(records.py). A statement is atomic, so either everything or nothing of the event is written.

What it saves, per event: the BEGIN, the locking read, the COMMIT and one to three more round trips
(bench/record_statements.py measures it).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from typing import Any

from sqlalchemy import ARRAY, Select, String, all_, bindparam, func, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from services.db.case_recorded import notify
from services.db.direct import DirectStatement
from services.db.tables import CaseRecord, CrossCheckRequestRecord
from services.domain.identification.state import CaseEvent
from services.workers.read_model import (
    HOUSEHOLD_STATUS,
    audit_entry,
    audit_params,
    row_arrays,
    rows_upsert,
)
from services.workers.tasks import sync_statements

# Requests of earlier rounds (an upheld objection restarted verification) no longer await anything.
RETIRE_REQUESTS = (
    update(CrossCheckRequestRecord)
    .where(
        col(CrossCheckRequestRecord.case_id) == bindparam("request_case_id"),
        col(CrossCheckRequestRecord.is_live),
        col(CrossCheckRequestRecord.request_id) != all_(bindparam("current", type_=ARRAY(String()))),
        col(CrossCheckRequestRecord.last_seq) < bindparam("seq"),
    )
    .values(is_live=False, last_seq=bindparam("seq"))
)

CASE_COLUMNS = (
    "case_id", "workflow_id", "run_id", "household_code", "county_code", "township_code", "village_code",
    "channel", "step", "outcome", "policy_version", "opened_at", "due_at", "step_due_at", "closed_at",
    "last_seq", "state",
)  # fmt: skip
REQUEST_COLUMNS = (
    "request_id", "case_id", "workflow_id", "run_id", "task_queue", "household_code", "county_code",
    "township_code", "village_code", "department", "round", "status", "is_latest", "is_live",
    "requested_at", "respond_by", "answered_at", "last_seq",
)  # fmt: skip


class LastWritten:
    """The state this process last wrote to each case's row (by case id, for the `size` cases it
    wrote to most recently): what the next event of the case applies to, when nobody wrote since."""

    def __init__(self, size: int = 4096) -> None:
        self._states: OrderedDict[str, tuple[int, dict[str, Any]]] = OrderedDict()
        self._size = size

    def as_of(self, case_id: str, seq: int) -> dict[str, Any] | None:
        """The state written for the case's event `seq`, if that is the last one this process wrote."""
        found = self._states.get(case_id)
        return found[1] if found is not None and found[0] == seq else None

    def wrote(self, case_id: str, seq: int, state: dict[str, Any]) -> None:
        """`state` (never changed afterwards) is now the case's row, as of event `seq`."""
        self._states[case_id] = (seq, state)
        self._states.move_to_end(case_id)
        if len(self._states) > self._size:
            self._states.popitem(last=False)

    def forget(self, case_id: str) -> None:
        self._states.pop(case_id, None)


@lru_cache(maxsize=16)  # by the engine's dialect: one engine per process, more in tests
def _direct(requests: bool, household: bool, dialect: Dialect) -> DirectStatement:
    return DirectStatement(_statement(requests, household), dialect)


def _statement(requests: bool, household: bool) -> Select[Any]:
    """The event's writes, each a CTE under the condition that the case row moved (`moved`), and
    the notification that it did."""
    moved = (
        update(CaseRecord)
        .where(col(CaseRecord.case_id) == bindparam("row_case_id"), col(CaseRecord.last_seq) == bindparam("prior_seq"))
        .values({**{c: bindparam(f"row_{c}") for c in CASE_COLUMNS if c != "case_id"}, "updated_at": func.now()})
        .returning(col(CaseRecord.case_id), col(CaseRecord.last_seq), col(CaseRecord.step))
        .cte("moved")
    )
    gate = select(moved.c.case_id).exists()
    opened, closed = sync_statements("task", gate)
    writes = [audit_entry(gate).cte("audited"), opened.cte("opened"), closed.cte("closed")]
    if requests:
        upsert = rows_upsert(CrossCheckRequestRecord, ("request_id",), REQUEST_COLUMNS, "requested", gate)
        writes += [upsert.cte("requested"), RETIRE_REQUESTS.where(gate).cte("retired")]
    if household:
        writes.append(HOUSEHOLD_STATUS.where(gate).cte("household"))
    return select(moved.c.case_id, notify(moved.c.case_id, moved.c.last_seq, moved.c.step)).add_cte(*writes)


async def record_on_known_row(
    conn: AsyncConnection,
    event: CaseEvent,
    row: dict[str, Any],
    tasks: dict[str, Any],
    requests: list[dict[str, Any]] | None,
    household: dict[str, Any] | None,
) -> bool:
    """Writes `event` (its audit entry as it is: `before` and `after` worked out) with its case `row`,
    the case's open tasks (`sync_params`), its cross-check request rows (None: unchanged) and the
    household's status (`household_params`, None: unchanged), if the case row is as of the event
    before; whether it was (if not, nothing is written). Notifies `case_recorded` if it was."""
    params: dict[str, Any] = {f"row_{c}": row[c] for c in CASE_COLUMNS}
    params.update(prior_seq=event.seq - 1, **audit_params("case", row["case_id"], event), **tasks)
    if requests is not None:
        current = [request["request_id"] for request in requests]
        params.update(
            row_arrays(requests, REQUEST_COLUMNS, "requested"), request_case_id=row["case_id"], current=current
        )
    if household is not None:
        params.update(household)
    statement = _direct(requests is not None, household is not None, conn.dialect)
    return await statement.first(conn, params) is not None
