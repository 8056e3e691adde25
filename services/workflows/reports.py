"""Produces the weekly or monthly reports (services/workers/reports): started by the schedules
`reports-weekly` and `reports-monthly`, or for a given past period by a county officer.

A scheduled run covers the period before the time it was *scheduled* for (Temporal's
`TemporalScheduledStartTime`), not the time it runs: a run made up for after an outage still
reports its own week or month."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from services.domain.months import local_date
    from services.domain.reports.periods import period_before
    from services.workers.reports.activities import ReportActivities, ReportRequest, ReportRun

SCHEDULED_AT = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


@workflow.defn
class ReportWorkflow:
    @workflow.run
    async def run(self, request: ReportRequest) -> list[str]:
        if request.from_date is not None and request.to_date is not None:
            first, last = request.from_date, request.to_date
        else:
            scheduled: datetime = workflow.info().typed_search_attributes.get(SCHEDULED_AT) or workflow.now()
            first, last = period_before(request.kind, local_date(scheduled))
        run = ReportRun(kind=request.kind, from_date=first, to_date=last, produced_by=request.produced_by)
        return await workflow.execute_activity_method(
            ReportActivities.produce_reports,
            run,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)),
        )
