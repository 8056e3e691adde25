"""one task inbox: monitoring periods and self-reports write their waits into `tasks` too

Revision ID: 0008
Revises: 0007
Create Date: 2027-01-10

- `tasks.household_code` may be empty: a self-report of a household not registered yet.
- Backfill: the open tasks of every monitored period (`monitoring_records`) and of every pending
  self-report (`self_reports`), derived from the state each row holds exactly as the record
  activities now derive them, so a running county's inboxes lose nothing. Rows already there
  (same key) are left alone, so the backfill may run over tasks the new workers wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import insert

from services.db.tables import Task
from services.domain.monitoring.state import MonitoringState
from services.domain.monitoring.tasks import monitoring_tasks
from services.domain.self_reports.model import SelfReportState
from services.domain.self_reports.tasks import self_report_tasks
from services.domain.tasks import TaskSpec
from services.workers.tasks import MONITORING, SELF_REPORT, TaskSource, task_rows

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_BATCH = 500


def _batches(conn: sa.Connection, table: str, key: str, where: str) -> Iterator[list[sa.Row[Any]]]:
    """The table's rows matching `where`, in pages on its primary key."""
    after = ""
    while True:
        rows = conn.execute(
            sa.text(
                f"SELECT {key} AS id, workflow_id, last_seq, updated_at, state FROM {table}"
                f" WHERE {where} AND {key} > :after ORDER BY {key} LIMIT {_BATCH}"
            ),
            {"after": after},
        ).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def _backfill(
    conn: sa.Connection, table: str, key: str, where: str, source: str, tasks_of: Callable[[Any], list[TaskSpec]]
) -> None:
    for rows in _batches(conn, table, key, where):
        values = []
        for row in rows:
            state = row.state
            origin = TaskSource(
                source=source,
                case_id=row.id,
                workflow_id=row.workflow_id,
                household_code=state.get("household_code"),
                county_code=state["county_code"],
                township_code=state["township_code"],
                village_code=state["village_code"],
            )
            opened_at: datetime = row.updated_at
            values += task_rows(origin, tasks_of(state), row.last_seq, opened_at)
        if values:
            conn.execute(insert(Task).values(values).on_conflict_do_nothing(index_elements=[Task.key]))


def upgrade() -> None:
    op.alter_column('tasks', 'household_code', existing_type=sa.String(length=20), nullable=True)
    conn = op.get_bind()
    _backfill(
        conn,
        'monitoring_records',
        'monitoring_id',
        "status = 'risk_not_eliminated'",
        MONITORING,
        lambda state: monitoring_tasks(MonitoringState.model_validate(state)),
    )
    _backfill(
        conn,
        'self_reports',
        'application_id',
        "status = 'pending'",
        SELF_REPORT,
        lambda state: self_report_tasks(SelfReportState.model_validate(state)),
    )


def downgrade() -> None:
    op.execute("DELETE FROM tasks WHERE source IN ('monitoring', 'self_report')")
    op.alter_column('tasks', 'household_code', existing_type=sa.String(length=20), nullable=False)
