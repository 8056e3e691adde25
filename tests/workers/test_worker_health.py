"""The worker container's health check (services/workers/health.py) against the real Temporal
server and the suite's running worker."""

from __future__ import annotations

import asyncio
import socket

from temporalio.testing import WorkflowEnvironment

from services.demo_case import CaseDriver
from services.settings import Settings
from services.workers.health import missing_pollers


async def test_a_polling_worker_of_this_host_is_healthy(
    driver: CaseDriver, temporal: WorkflowEnvironment, settings: Settings
) -> None:
    # `driver`: the suite's worker runs on this host, polling the service's task queue; its first
    # polls reach the server a moment after it starts (the container's start period covers that).
    client, queue, here = temporal.client, settings.temporal_task_queue, socket.gethostname()
    for _ in range(50):
        if not await missing_pollers(client, queue, here):
            break
        await asyncio.sleep(0.2)
    assert await missing_pollers(client, queue, here) == []
    # Another container (host) has no worker of its own polling; nor does a queue nobody serves.
    assert await missing_pollers(client, queue, "another-container") == ["workflow", "activity"]
    assert await missing_pollers(client, "nobody-serves-this-queue", here) == ["workflow", "activity"]
