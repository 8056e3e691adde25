"""Prints how heavy saved workflow histories are: bytes (protobuf, as the server stores them), events,
timers and workflow tasks, and the bytes by event type. Compares histories recorded before and after a
change to the workflow code (from the repository root):

    uv run python -m tests.workflows.histories.history_size tests/workflows/histories/identification_*_announced.json
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

_COUNTED = {
    "timers started": EventType.EVENT_TYPE_TIMER_STARTED,
    "timers cancelled": EventType.EVENT_TYPE_TIMER_CANCELED,
    "workflow tasks": EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    "activities": EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
}


def weigh(path: Path) -> tuple[dict[str, int], Counter[str]]:
    """(totals, bytes by event type) of one saved history."""
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    by_type: Counter[str] = Counter()
    totals = {"bytes": 0, "events": len(history.events)} | dict.fromkeys(_COUNTED, 0)
    for event in history.events:
        size = event.ByteSize()
        totals["bytes"] += size
        by_type[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()] += size
        for name, kind in _COUNTED.items():
            totals[name] += event.event_type == kind
    return totals, by_type


def main(paths: list[str]) -> None:
    for path in map(Path, paths):
        totals, by_type = weigh(path)
        print(f"{path.name}: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
        for kind, size in by_type.most_common(6):
            print(f"    {kind:48s}{size:>9d} B")


if __name__ == "__main__":
    main(sys.argv[1:])
