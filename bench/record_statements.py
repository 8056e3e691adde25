"""The worker's CPU for recording a case's events, with the record activities of a git revision
(`--base`, before their statements were built once) beside the current ones, in one process.

    uv run python bench/record_statements.py [--base 8a7c04b] [--cases 40]
        [--database postgresql://postgres@127.0.0.1:5432/postgres]

Replays the 25 `record_case_event` inputs of a saved history (an objection upheld, so two
cross-check rounds, then notice, reviews and announcement) as fresh cases, through
`CaseRecordActivities.record_case_event` in an activity environment, against a scratch database
(created and migrated in the PostgreSQL server of `--database`, dropped at the end). The base
revision's records.py, read_model.py and tasks.py are loaded from git, the rest of the code is the
current one. Old and new cases alternate; the figure is this process's CPU time per event (the
statements' building, cache keys, parameters, asyncpg), and the wall time beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config
from temporalio.client import WorkflowHistory
from temporalio.testing import ActivityEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.db.engine import create_engine  # noqa: E402
from services.domain.identification.state import CaseEvent  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.temporal_client import data_converter  # noqa: E402
from services.workers.identification import records  # noqa: E402

HISTORY = ROOT / "tests/workflows/histories/identification_13cc546_announced.json"
_REQUEST_ID = re.compile(r'"([0-9a-f]{24})[0-9a-f]{8}"')


def _module_at(revision: str, name: str, path: str) -> types.ModuleType:
    source = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True).stdout
    module = sys.modules[name] = types.ModuleType(name)  # dataclasses look their module up
    exec(compile(source, f"{revision}:{path}", "exec"), module.__dict__)
    return module


def _exists_at(revision: str, path: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", f"{revision}:{path}"], cwd=ROOT).returncode == 0


# What records.py imports that changed with it, in the order they import one another: each is loaded
# from the base revision where the base has it (the rest of the code is the current one).
_WITH_RECORDS = (
    "services.db.case_recorded",
    "services.workers.read_model",
    "services.workers.tasks",
    "services.workers.identification.known_row",
)


def _records_at(revision: str) -> types.ModuleType:
    """The base revision's records.py, with the base's modules of `_WITH_RECORDS`."""
    saved = {name: sys.modules[name] for name in _WITH_RECORDS}
    try:
        for name in _WITH_RECORDS:
            path = name.replace(".", "/") + ".py"
            if _exists_at(revision, path):
                sys.modules[name] = _module_at(revision, name.rsplit(".", 1)[-1] + "_at_base", path)
        return _module_at(revision, "records_at_base", "services/workers/identification/records.py")
    finally:
        sys.modules.update(saved)


async def _history_events() -> list[str]:
    converter = data_converter(Settings(environment="test", database_url="unused", temporal_address="unused"))
    history = WorkflowHistory.from_json("bench", HISTORY.read_text())
    events = []
    for event in history.events:
        scheduled = event.activity_task_scheduled_event_attributes
        if event.HasField("activity_task_scheduled_event_attributes") and (
            scheduled.activity_type.name == "record_case_event"
        ):
            [case_event] = await converter.decode(scheduled.input.payloads, [CaseEvent])
            events.append(case_event.model_dump_json())
    return events


def _as_case(events: list[str], case_no: int) -> list[CaseEvent]:
    """The events of a case of its own: its id, and its cross-check request ids, new."""
    case_id, suffix = f"bench-{case_no}", f"{case_no:08x}"
    return [
        CaseEvent.model_validate_json(
            _REQUEST_ID.sub(rf'"\g<1>{suffix}"', text.replace('"replay-announced"', f'"{case_id}"'))
        )
        for text in events
    ]


async def _record(activities: Any, events: list[CaseEvent]) -> tuple[float, float]:
    environment = ActivityEnvironment()
    cpu, wall = time.process_time(), time.perf_counter()
    for event in events:
        await environment.run(activities.record_case_event, event)
    return time.process_time() - cpu, time.perf_counter() - wall


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="8a7c04b")
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    scratch = f"bench_records_{uuid.uuid4().hex[:8]}"
    server = await asyncpg.connect(args.database)
    await server.execute(f"CREATE DATABASE {scratch}")
    url = args.database.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{scratch}"
    try:
        config = Config(str(ROOT / "alembic.ini"))
        config.attributes["database_url"] = url
        await asyncio.to_thread(command.upgrade, config, "head")
        engine = create_engine(url, pool_size=2, ping_after_idle=60)
        paths = {
            "old": _records_at(args.base).CaseRecordActivities(engine),
            "new": records.CaseRecordActivities(engine),
        }
        events = await _history_events()
        totals = {name: [0.0, 0.0] for name in paths}
        for case_no in range(-2, args.cases):  # the first two of each: warm-up (compile caches, prepared statements)
            for name, activities in paths.items() if case_no % 2 else reversed(paths.items()):
                cpu, wall = await _record(activities, _as_case(events, 2 * (case_no + 2) + (name == "new")))
                if case_no >= 0:
                    totals[name][0] += cpu
                    totals[name][1] += wall
        await engine.dispose()
    finally:
        await server.execute(f"DROP DATABASE {scratch} WITH (FORCE)")
        await server.close()

    recorded = args.cases * len(events)
    for name, (cpu, wall) in totals.items():
        print(f"{name}: {cpu / recorded * 1000:.3f} ms CPU, {wall / recorded * 1000:.3f} ms wall per event")
    print(
        f"CPU new/old: {totals['new'][0] / totals['old'][0]:.2f}, wall new/old: {totals['new'][1] / totals['old'][1]:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
