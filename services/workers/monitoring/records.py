"""The activity that writes a monitoring period's events into PostgreSQL: the audit
entry, the period's read-model row, its visit tasks, the visit itself, and the
household's status. One transaction, idempotent (see `read_model.py`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from temporalio import activity

from services.db.tables import MonitoringRecord, VisitRecord, VisitTaskRecord
from services.domain.monitoring.state import MonitoringEvent, MonitoringState
from services.domain.monitoring.tasks import monitoring_tasks, open_tasks
from services.domain.monitoring.vocabulary import MonitoringAction
from services.workers.read_model import audited_upsert, forward_upsert, set_household_status
from services.workers.tasks import MONITORING, TaskSource, sync_tasks


class MonitoringRecordActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="record_monitoring_event")
    async def record_monitoring_event(self, event: MonitoringEvent) -> None:
        state = event.state
        async with self._engine.begin() as conn:
            row = _record_row(event)
            moved_forward = await audited_upsert(conn, MonitoringRecord, "monitoring_id", row, "monitoring", event)
            if state.visit_tasks:
                rows = [
                    {
                        **_area_columns(state),
                        "monitoring_id": state.monitoring_id,
                        "last_seq": event.seq,
                        **task.model_dump(exclude={"per_capita_net_income"}),
                    }
                    for task in state.visit_tasks
                ]
                await forward_upsert(conn, VisitTaskRecord, ("monitoring_id", "period"), rows)
            if event.action == MonitoringAction.record_visit:
                await _insert_visit(conn, event)
            if moved_forward:  # only the newest event sets the household's status and the open tasks
                await sync_tasks(
                    conn, _task_source(event), monitoring_tasks(state), event.seq, event.at, event.actor.username
                )
                await set_household_status(conn, state.household_code, state.status, state.category)


def _area_columns(state: MonitoringState) -> dict[str, str]:
    return {
        "household_code": state.household_code,
        "county_code": state.county_code,
        "township_code": state.township_code,
        "village_code": state.village_code,
    }


def _task_source(event: MonitoringEvent) -> TaskSource:
    state = event.state
    return TaskSource(
        source=MONITORING, case_id=state.monitoring_id, workflow_id=event.workflow_id, **_area_columns(state)
    )


def _record_row(event: MonitoringEvent) -> dict[str, object]:
    state = event.state
    exit_ = state.open_exit
    person = state.support_person
    return {
        **_area_columns(state),
        "monitoring_id": state.monitoring_id,
        "workflow_id": event.workflow_id,
        "status": state.status,
        "exit_step": exit_.step if exit_ else None,
        "exit_eligible": bool(state.is_monitored and state.assessment and state.assessment.eligible),
        "support_person": person.username if person else None,
        "since": state.since,
        "risk_eliminated_at": state.risk_eliminated_at,
        "tasks": [t.model_dump(mode="json") for t in open_tasks(state)],
        "last_seq": event.seq,
        "state": state.model_dump(mode="json"),
    }


async def _insert_visit(conn: AsyncConnection, event: MonitoringEvent) -> None:
    data = event.data
    await conn.execute(
        insert(VisitRecord)
        .values(
            monitoring_id=event.state.monitoring_id,
            visit_no=data["visit_no"],
            household_code=event.state.household_code,
            village_code=event.state.village_code,
            period=data["period"],
            visited_on=date.fromisoformat(data["visited_on"]),
            visitors=data["visitors"],
            findings=data["findings"],
            per_capita_net_income=data["per_capita_net_income"],
            living_conditions=data["living_conditions"],
            new_risks=data["new_risks"],
            new_risk_note=data["new_risk_note"],
            recorded_by=event.actor.username,
            recorded_at=event.at,
        )
        .on_conflict_do_nothing()
    )
