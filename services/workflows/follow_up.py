"""Opens the month's follow-up visits (services/workers/follow_up): started by the schedule
`follow-up-visits` (services/workers/follow_up/activities.py). Its one activity is idempotent,
so a run repeated or cut short by a restart never doubles a month's task."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from services.workers.follow_up.activities import FollowUpActivities


@workflow.defn
class FollowUpWorkflow:
    @workflow.run
    async def run(self) -> dict[str, int]:
        return await workflow.execute_activity_method(
            FollowUpActivities.open_follow_up_month,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)),
        )
