"""The worker process: runs the case, monitoring and self-report workflows and the activities that do their I/O.

uv run python -m services.workers.main
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from services.db.bulk_engine import create_bulk_engine
from services.db.engine import create_engine
from services.messaging.sms import sms_sender
from services.observability.logs import use_json_logs
from services.observability.temporal_headers import RequestIdsInWorker
from services.observability.tracing import tracer_provider
from services.observability.worker_metrics import temporal_runtime
from services.settings import Settings, get_settings
from services.temporal_client import connect
from services.workers.activity_failures import ActivityFailures
from services.workers.departments.inbox import DepartmentInbox, InboxTiming
from services.workers.follow_up.activities import FollowUpActivities, ensure_schedule
from services.workers.identification.cross_checks import CrossCheckActivities
from services.workers.identification.records import CaseRecordActivities
from services.workers.monitoring.handover import MonitoringHandOver
from services.workers.monitoring.intake import MonitoringIntake
from services.workers.monitoring.records import MonitoringRecordActivities
from services.workers.reports.activities import ReportActivities, ensure_report_schedules
from services.workers.screening.imports import ImportActivities
from services.workers.screening.runs import RunStarts, ScreeningRunActivities
from services.workers.self_reports.activities import SelfReportActivities
from services.workers.self_reports.links import SelfReportLinks
from services.workflows.follow_up import FollowUpWorkflow
from services.workflows.identification import IdentificationWorkflow
from services.workflows.monitoring import MonitoringWorkflow
from services.workflows.reports import ReportWorkflow
from services.workflows.screening import ImportWorkflow, ScreeningRunWorkflow
from services.workflows.self_report import SelfReportWorkflow

log = logging.getLogger("services.worker")


@asynccontextmanager
async def running_worker(
    client: Client, settings: Settings, inbox_timing: InboxTiming = InboxTiming()
) -> AsyncIterator[Worker]:
    """A started worker with its database engine, its HTTP client for departments and the
    forwarder of department results and warnings to cases (paced by `inbox_timing`); all
    are closed on exit."""
    # Activities are retried: a connection that rested under 10 s is used without a ping (services/db/engine.py).
    engine = create_engine(settings.require_database_url(), ping_after_idle=10)
    # Each attempt is short; Temporal's retry policy spaces attempts out (services/workflows/identification.py).
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
    intake = MonitoringIntake(client, engine, settings.temporal_task_queue)
    handover = MonitoringHandOver(client, engine, settings.temporal_task_queue)
    self_reports = SelfReportActivities(engine, client, settings.temporal_task_queue, sms_sender(settings))
    links = SelfReportLinks(engine)
    records = CaseRecordActivities(engine)
    monitoring_records = MonitoringRecordActivities(engine)
    cross_checks = CrossCheckActivities(engine, settings, http)
    follow_up = FollowUpActivities(engine)
    bulk = create_bulk_engine(settings.require_database_url())
    imports, screening = ImportActivities(bulk), ScreeningRunActivities(client, bulk, settings.temporal_task_queue)
    worker = Worker(
        client,
        task_queue=settings.temporal_task_queue,
        # Tracing, when on, comes with the client (services/temporal_client.py).
        interceptors=[ActivityFailures(), RequestIdsInWorker()],
        workflows=[
            IdentificationWorkflow,
            MonitoringWorkflow,
            SelfReportWorkflow,
            FollowUpWorkflow,
            ReportWorkflow,
            ImportWorkflow,
            ScreeningRunWorkflow,
        ],
        activities=[
            records.record_case_event,
            monitoring_records.record_monitoring_event,
            intake.open_identification_for_risk,
            handover.tell_monitoring_case_ended,
            links.find_linked_self_reports,
            cross_checks.plan_cross_check,
            cross_checks.send_cross_check_request,
            self_reports.record_self_report_event,
            self_reports.open_case_for_self_report,
            self_reports.send_self_report_notice,
            follow_up.open_follow_up_month,
            ReportActivities(engine).produce_reports,
            imports.run_import,
            screening.flag_households,
            screening.open_lead_batch,
            screening.finish_screening_run,
            RunStarts(bulk).create_run_after_import,
        ],
    )
    try:
        async with worker:
            forwarder = asyncio.create_task(
                DepartmentInbox(engine, client, settings.temporal_task_queue, inbox_timing).run()
            )
            try:
                yield worker
            finally:
                # Stop feeding updates to cases before the worker that runs them shuts down.
                forwarder.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await forwarder
    finally:
        await http.aclose()
        await engine.dispose()
        await bulk.dispose()


def keep_compiled_modules() -> None:
    """The workflow sandbox imports each workflow's modules afresh for every workflow run it
    starts. Under PYTHONDONTWRITEBYTECODE (the image sets it) every such import compiled the source
    again (measured: 2.5 % of the worker's CPU): keep compiled modules in a folder of the worker's
    own instead, so the source tree stays as it is. Shared by the workers of a host and by their
    restarts: each compiled module is checked against its source and written atomically."""
    if not sys.dont_write_bytecode:
        return
    folder = Path(tempfile.gettempdir()) / f"fanpin-worker-bytecode-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    found = folder.lstat()
    if stat.S_ISLNK(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        log.warning("not caching compiled modules in %s: not the worker's own private folder", folder)
        return  # code someone else could write is never loaded
    sys.pycache_prefix, sys.dont_write_bytecode = str(folder), False


async def main() -> None:
    use_json_logs()
    settings = get_settings()
    provider = tracer_provider(settings)
    client = await connect(settings, tracing=provider, runtime=temporal_runtime(settings))
    try:
        async with running_worker(client, settings):
            await ensure_schedule(client, settings.temporal_task_queue)
            await ensure_report_schedules(client, settings.temporal_task_queue)
            log.info(
                "worker started on task queue %s; Temporal SDK metrics on %s",
                settings.temporal_task_queue,
                settings.worker_metrics_address or "(off)",
            )
            await asyncio.Event().wait()
    finally:
        if provider is not None:
            provider.shutdown()


if __name__ == "__main__":
    keep_compiled_modules()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
