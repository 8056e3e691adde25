"""The health check of one worker container (docker-compose.yml): healthy when a worker of this
host has polled both the workflow and the activity side of the task queue lately.

A worker polls without pause (each long poll lasts up to about a minute), and Temporal keeps
who polled when, so this needs no port or file of the worker's own. The SDK names a worker
`<pid>@<hostname>`; in a container the hostname is the container's, so each replica checks
itself. Exit status 0: healthy; 1: not (the reason on stderr)."""

from __future__ import annotations

import asyncio
import socket
import sys
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from services.settings import get_settings
from services.temporal_client import connect

# Longer than a long poll (about 70 s), so an idle worker between two polls is still healthy.
POLLED_WITHIN = timedelta(minutes=2)


async def missing_pollers(client: Client, task_queue: str, host: str) -> list[str]:
    """The sides of the task queue (`workflow`, `activity`) no worker of `host` polled lately."""
    now, missing = datetime.now(UTC), []
    for side, kind in (
        ("workflow", TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        ("activity", TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    ):
        answer = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace, task_queue=TaskQueue(name=task_queue), task_queue_type=kind
            )
        )
        if not any(
            poller.identity.endswith(f"@{host}")
            and now - poller.last_access_time.ToDatetime(tzinfo=UTC) < POLLED_WITHIN
            for poller in answer.pollers
        ):
            missing.append(side)
    return missing


async def main() -> int:
    settings = get_settings()
    try:
        client = await asyncio.wait_for(connect(settings), timeout=10)
        missing = await asyncio.wait_for(
            missing_pollers(client, settings.temporal_task_queue, socket.gethostname()), 10
        )
    except Exception as error:
        print(f"unhealthy: Temporal did not answer ({type(error).__name__})", file=sys.stderr)
        return 1
    if missing:
        print(
            f"unhealthy: no worker of this host polled the {' and '.join(missing)} task queue lately", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
