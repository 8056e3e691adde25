"""Writes a workflow's open tasks (services/domain/tasks.py) into the inbox table.

Called inside the transaction that records the workflow's event, and only for an event newer
than the read model held (an older one retried late must not reopen what a newer one closed):
the tasks the state implies are inserted or updated, every other open task of the same record is
closed. Keys name one occurrence of a wait, so a retried event changes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, String, all_, bindparam, update
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Update
from sqlmodel import col

from services.db.tables import Task
from services.domain.tasks import NO_DEADLINE, TaskSpec
from services.workers.read_model import row_arrays, unnest_rows

IDENTIFICATION = "identification"
MONITORING = "monitoring"
SELF_REPORT = "self_report"


@dataclass(frozen=True)
class TaskSource:
    """Where a workflow's tasks come from (the record is a case, a monitoring period or an
    application: its id goes in `case_id`), and the household they concern."""

    source: str
    case_id: str
    workflow_id: str
    household_code: str | None  # None: a self-report of a household not registered yet
    county_code: str
    township_code: str
    village_code: str


def task_rows(origin: TaskSource, wanted: list[TaskSpec], seq: int, at: datetime) -> list[dict[str, Any]]:
    """The `tasks` rows of the wanted tasks as first written."""
    return [
        {
            **spec.model_dump(
                mode="json", include={"key", "step", "action", "subject", "role", "area_code", "title", "detail"}
            ),
            "due_at": spec.due_at or NO_DEADLINE,
            "escalated_at": spec.escalated_at,
            "source": origin.source,
            "case_id": origin.case_id,
            "workflow_id": origin.workflow_id,
            "household_code": origin.household_code,
            "county_code": origin.county_code,
            "township_code": origin.township_code,
            "village_code": origin.village_code,
            "opened_at": at,
            "opened_seq": seq,
        }
        for spec in wanted
    ]


# The wanted tasks upserted in a CTE (an existing open one only where it changed), every other
# open task of the record closed by the UPDATE around it (disjoint rows: a statement may not touch
# a row twice). One constant statement, one round trip, for any number of wanted tasks.
_WANTED = (
    "key", "step", "action", "subject", "role", "area_code", "title", "detail", "due_at", "escalated_at",
    "source", "case_id", "workflow_id", "household_code", "county_code", "township_code", "village_code",
    "opened_at", "opened_seq",
)  # fmt: skip


def sync_statements(prefix: str = "rows", gate: Any = None) -> tuple[Insert, Update]:
    """The upsert of the wanted tasks and the closing of every other open task of the record
    (`sync_params`), to run in one statement; `gate`: a condition both are written under (none: always).
    Columns left out take the server's defaults (inside a CTE of a SELECT, SQLAlchemy's own are not applied)."""
    wanted = unnest_rows(Task.__table__, _WANTED, prefix)  # type: ignore[attr-defined]
    upsert = insert(Task).from_select(_WANTED, wanted if gate is None else wanted.where(gate), include_defaults=False)
    opened = upsert.on_conflict_do_update(
        index_elements=[col(Task.key)],
        set_={k: upsert.excluded[k] for k in ("due_at", "escalated_at", "title", "detail")},
        where=col(Task.closed_at).is_(None)
        & (
            col(Task.due_at).is_distinct_from(upsert.excluded.due_at)
            | col(Task.escalated_at).is_distinct_from(upsert.excluded.escalated_at)
            | col(Task.title).is_distinct_from(upsert.excluded.title)
            | col(Task.detail).is_distinct_from(upsert.excluded.detail)
        ),
    )
    closing = update(Task).where(
        col(Task.case_id) == bindparam("record_id"),
        col(Task.source) == bindparam("record_source"),
        col(Task.closed_at).is_(None),
        col(Task.key) != all_(bindparam(f"{prefix}_key", type_=ARRAY(String()))),  # the wanted rows' keys
    )
    closing = closing.values(closed_at=bindparam("at"), closed_seq=bindparam("seq"), closed_by=bindparam("actor"))
    return opened, closing if gate is None else closing.where(gate)


def sync_params(
    origin: TaskSource, wanted: list[TaskSpec], seq: int, at: datetime, actor: str, prefix: str = "rows"
) -> dict[str, Any]:
    rows = row_arrays(task_rows(origin, wanted, seq, at), _WANTED, prefix)
    return {**rows, "record_id": origin.case_id, "record_source": origin.source, "at": at, "seq": seq, "actor": actor}


_OPENED, _CLOSING = sync_statements()
_SYNC = _CLOSING.add_cte(_OPENED.cte("opened"))


async def sync_tasks(
    conn: AsyncConnection, origin: TaskSource, wanted: list[TaskSpec], seq: int, at: datetime, actor: str
) -> None:
    """The open tasks of `origin` made `wanted`, in one statement (`_SYNC`)."""
    await conn.execute(_SYNC, sync_params(origin, wanted, seq, at, actor))
