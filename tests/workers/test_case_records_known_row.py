"""A case event whose row the worker knows (it wrote the event before) is written in one statement
(services/workers/identification/known_row.py); one it does not know, by reading the row, locked.
Both must write exactly the same rows, and a known row that someone else has moved since must make
the worker write nothing twice."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.client import WorkflowHistory
from temporalio.testing import ActivityEnvironment

from services.db.engine import create_engine
from services.db.tables import AuditEntry, CaseRecord, CrossCheckRequestRecord, Task
from services.domain.identification.state import CaseEvent
from services.settings import Settings
from services.temporal_client import data_converter
from services.workers.identification.records import CaseRecordActivities

# A case with an objection upheld (two cross-check rounds), a notice, reviews and its announcement.
HISTORY = Path(__file__).parents[1] / "workflows/histories/identification_13cc546_announced.json"
_REQUEST_ID = re.compile(r'"([0-9a-f]{24})[0-9a-f]{8}"')
_TABLES: dict[str, Table] = {
    "case": CaseRecord.__table__,  # type: ignore[attr-defined]
    "audit": AuditEntry.__table__,  # type: ignore[attr-defined]
    "tasks": Task.__table__,  # type: ignore[attr-defined]
    "requests": CrossCheckRequestRecord.__table__,  # type: ignore[attr-defined]
}
# What the server fills in when a row is written: differs from case to case by nature.
_SERVER_SET = {"id", "updated_at"}


@pytest_asyncio.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def history_events(settings: Settings) -> list[str]:
    """The saved history's `record_case_event` inputs (light: only the first carries the state)."""
    history = WorkflowHistory.from_json("known-row", HISTORY.read_text())
    events = []
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name == "record_case_event":
                [case_event] = await data_converter(settings).decode(scheduled.input.payloads, [CaseEvent])
                events.append(case_event.model_dump_json())
    return events


def _as_case(events: list[str], case_id: str, suffix: str) -> list[CaseEvent]:
    """The history's events as a case of its own: its id and its cross-check request ids new."""
    return [
        CaseEvent.model_validate_json(
            _REQUEST_ID.sub(rf'"\g<1>{suffix}"', text.replace('"replay-announced"', f'"{case_id}"'))
        )
        for text in events
    ]


def _new_case() -> tuple[str, str]:
    """A case id and the suffix of its request ids (8 hex digits), both new."""
    suffix = uuid.uuid4().hex[:8]
    return f"known-row-{suffix}", suffix


async def _written(engine: AsyncEngine, case_id: str, suffix: str) -> dict[str, Any]:
    """Every row recorded of the case, its own ids made the same for every case."""
    found = {}
    async with engine.connect() as conn:
        for name, table in _TABLES.items():
            rows = (await conn.execute(select(table).where(table.c.case_id == case_id))).mappings().all()
            plain = [{k: v for k, v in row.items() if k not in _SERVER_SET} for row in rows]
            text = json.dumps(plain, default=str, sort_keys=True).replace(case_id, "CASE").replace(suffix, "SUFFIX")
            found[name] = sorted(json.loads(text), key=lambda row: json.dumps(row, sort_keys=True))
    return found


async def test_one_statement_writes_what_reading_the_row_writes(engine: AsyncEngine, history_events: list[str]) -> None:
    (a, a_suffix), (b, b_suffix) = _new_case(), _new_case()
    env = ActivityEnvironment()
    knows = CaseRecordActivities(engine)  # it writes every event of its case: it knows the row after the first
    for event in _as_case(history_events, a, a_suffix):
        await env.run(knows.record_case_event, event)
    for event in _as_case(history_events, b, b_suffix):
        await env.run(CaseRecordActivities(engine).record_case_event, event)  # a new process each time

    known, read = await _written(engine, a, a_suffix), await _written(engine, b, b_suffix)
    assert len(known["audit"]) == len(history_events) > 20 and len(known["requests"]) >= 10
    assert any(task["closed_at"] for task in known["tasks"]) and any(not r["is_live"] for r in known["requests"])
    assert known == read


async def test_a_row_someone_else_moved_is_read_again_and_nothing_is_written_twice(
    engine: AsyncEngine, history_events: list[str]
) -> None:
    case_id, suffix = _new_case()
    events = _as_case(history_events, case_id, suffix)
    env, this_process, other_process = ActivityEnvironment(), CaseRecordActivities(engine), CaseRecordActivities(engine)
    for event in events[:5]:
        await env.run(this_process.record_case_event, event)
    # The case's workflow moved to another process, which wrote the next two events; then this one
    # is handed the first of them again (a retry): it knows the row as of the event before, which
    # is no longer the row, and must not take the row back.
    for event in events[5:7]:
        await env.run(other_process.record_case_event, event)
    before = await _written(engine, case_id, suffix)
    await env.run(this_process.record_case_event, events[5])
    assert await _written(engine, case_id, suffix) == before

    for event in events[7:]:  # this process goes on from the row as it is
        await env.run(this_process.record_case_event, event)
    async with engine.connect() as conn:
        entries = await conn.scalar(select(func.count()).where(col(AuditEntry.case_id) == case_id))
        last_seq = await conn.scalar(select(col(CaseRecord.last_seq)).where(col(CaseRecord.case_id) == case_id))
    assert entries == last_seq == len(events)
