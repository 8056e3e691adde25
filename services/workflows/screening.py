"""Screening workflows (全农户排查).

`ImportWorkflow` (`import-<job id>`): runs an import job's one activity, then, if asked, a
screening run over what the job changed.

`ScreeningRunWorkflow` (`screening-run-<run id>`): flags the households once, then hands leads to
the village cadres a batch at a time (the policy's batch size, a bounded number being opened at
once, a pause between batches), continuing as new every few batches so that its history stays
short however many households a run flags. Its activities are idempotent (services/workers/
screening/runs.py): after a worker restart it carries on with the hits that have no outcome yet.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from services.workers.screening.imports import ImportActivities, ImportStart
    from services.workers.screening.runs import (
        BatchInput,
        RunAfterImport,
        RunProgress,
        RunStarts,
        ScreeningRunActivities,
    )

_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=2))
# A bad file never fails the activity (its rows are refused); what does is the database or a bug.
_IMPORT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=10)
BATCHES_PER_RUN = 20  # batches before continuing as new


def screening_run_id(run_id: int) -> str:
    return f"screening-run-{run_id}"


@workflow.defn
class ScreeningRunWorkflow:
    @workflow.run
    async def run(self, progress: RunProgress) -> None:
        plan = progress.plan
        if plan is None:
            plan = await workflow.execute_activity_method(
                ScreeningRunActivities.flag_households,
                progress.run_id,
                start_to_close_timeout=timedelta(minutes=30),
                retry_policy=_RETRY,
            )
        batch = BatchInput(run_id=progress.run_id, batch_size=plan.batch_size, in_flight=plan.in_flight)
        for _ in range(BATCHES_PER_RUN):
            taken = await workflow.execute_activity_method(
                ScreeningRunActivities.open_lead_batch,
                batch,
                start_to_close_timeout=timedelta(minutes=30),
                heartbeat_timeout=timedelta(minutes=2),
                retry_policy=_RETRY,
            )
            if taken == 0:
                await workflow.execute_activity_method(
                    ScreeningRunActivities.finish_screening_run,
                    progress.run_id,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=_RETRY,
                )
                return
            if plan.pause_seconds:
                await workflow.sleep(timedelta(seconds=plan.pause_seconds))
        workflow.continue_as_new(RunProgress(run_id=progress.run_id, plan=plan))


@workflow.defn
class ImportWorkflow:
    @workflow.run
    async def run(self, start: ImportStart) -> str:
        status = await workflow.execute_activity_method(
            ImportActivities.run_import,
            start.job_id,
            start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=_IMPORT_RETRY,
        )
        if status in ("done", "truncated") and start.screen_year is not None:
            run_id = await workflow.execute_activity_method(
                RunStarts.create_run_after_import,
                RunAfterImport(
                    county_code=start.county_code,
                    year=start.screen_year,
                    import_job=start.job_id,
                    started_by=start.started_by,
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=_RETRY,
            )
            await workflow.start_child_workflow(
                ScreeningRunWorkflow.run,
                RunProgress(run_id=run_id),
                id=screening_run_id(run_id),
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        return status
