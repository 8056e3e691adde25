"""The activity that opens the month's follow-up visits, and the schedule that runs it."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from services.workers.follow_up.months import open_month

SCHEDULE_ID = "follow-up-visits"
WORKFLOW_ID = "follow-up-visits"
# Often enough that a household flagged 脱贫户 today has its visit task within hours, not next month.
EVERY = timedelta(hours=1)


class FollowUpActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn
    async def open_follow_up_month(self) -> dict[str, int]:
        async with self._engine.begin() as conn:
            return await open_month(conn, datetime.now(UTC))


async def ensure_schedule(client: Client, task_queue: str) -> None:
    """Creates the schedule once (it lives in Temporal and survives every restart); runs it at once."""
    from services.workflows.follow_up import FollowUpWorkflow

    schedule = Schedule(
        action=ScheduleActionStartWorkflow(FollowUpWorkflow.run, id=WORKFLOW_ID, task_queue=task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(SCHEDULE_ID, schedule, trigger_immediately=True)
