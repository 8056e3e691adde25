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

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from services.db.tables import Task
from services.domain.tasks import NO_DEADLINE, TaskSpec

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


async def sync_tasks(
    conn: AsyncConnection, origin: TaskSource, wanted: list[TaskSpec], seq: int, at: datetime, actor: str
) -> None:
    """One statement (one round trip): the wanted tasks upserted in a CTE, every other open task of
    the record closed by the UPDATE around it (disjoint rows: a statement may not touch a row twice)."""
    close_others = (
        update(Task)
        .where(
            col(Task.case_id) == origin.case_id,
            col(Task.source) == origin.source,
            col(Task.closed_at).is_(None),
            col(Task.key).not_in([spec.key for spec in wanted]),
        )
        .values(closed_at=at, closed_seq=seq, closed_by=actor)
    )
    if wanted:
        upsert = insert(Task).values(task_rows(origin, wanted, seq, at))
        changed = (
            col(Task.due_at).is_distinct_from(upsert.excluded.due_at)
            | col(Task.escalated_at).is_distinct_from(upsert.excluded.escalated_at)
            | col(Task.title).is_distinct_from(upsert.excluded.title)
            | col(Task.detail).is_distinct_from(upsert.excluded.detail)
        )
        opened = upsert.on_conflict_do_update(
            index_elements=[col(Task.key)],
            set_={k: upsert.excluded[k] for k in ("due_at", "escalated_at", "title", "detail")},
            where=col(Task.closed_at).is_(None) & changed,
        )
        close_others = close_others.add_cte(opened.cte("opened"))
    await conn.execute(close_others)
