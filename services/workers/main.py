"""The worker process: runs case workflows and the activities that do their I/O.

    uv run python -m services.workers.main
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from collections.abc import AsyncIterator

from temporalio.client import Client
from temporalio.worker import Worker

from services.db.engine import create_engine
from services.settings import Settings, get_settings
from services.temporal_client import connect
from services.messaging.sms import sms_sender
from services.workers.case_records import CaseRecordActivities
from services.workers.self_reports import SelfReportActivities
from services.workflows.identification import IdentificationWorkflow
from services.workflows.self_report import SelfReportWorkflow

log = logging.getLogger("services.worker")


@asynccontextmanager
async def running_worker(client: Client, settings: Settings) -> AsyncIterator[Worker]:
    """A started worker with its database engine; both are closed on exit."""
    engine = create_engine(settings.require_database_url())
    self_reports = SelfReportActivities(engine, client, settings.temporal_task_queue, sms_sender(settings))
    records = CaseRecordActivities(engine, on_closed=[self_reports.tell_linked_applications])
    worker = Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=[IdentificationWorkflow, SelfReportWorkflow],
        activities=[
            records.record_case_event,
            self_reports.record_self_report_event,
            self_reports.open_case_for_self_report,
            self_reports.send_self_report_notice,
        ],
    )
    try:
        async with worker:
            yield worker
    finally:
        await engine.dispose()


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    client = await connect(settings)
    async with running_worker(client, settings):
        log.info("worker started on task queue %s", settings.temporal_task_queue)
        await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
