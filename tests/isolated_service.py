"""A service of a test's own on the session's servers, for tests that may do anything to it: a
Temporal namespace of its own (workflow ids cannot meet other tests'), a database of its own, and
the worker as a process of its own (so it can be killed)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.settings import Settings
from services.temporal_client import data_converter
from tests.conftest import migrate_with_demo_data

ROOT = Path(__file__).resolve().parent.parent


async def own_namespace(temporal: WorkflowEnvironment, settings: Settings) -> Client:
    """A client of a new namespace on the test Temporal server."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    await temporal.client.workflow_service.register_namespace(
        RegisterNamespaceRequest(namespace=name, workflow_execution_retention_period=timedelta(days=1))
    )
    target = temporal.client.service_client.config.target_host
    client = await Client.connect(target, namespace=name, data_converter=data_converter(settings))
    for _ in range(100):  # the server learns of a new namespace within moments
        try:
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=name))
            return client
        except RPCError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"namespace {name} never became usable")


async def migrated(url: str) -> str:
    """`url`'s database at the newest schema with the demo data."""
    await asyncio.to_thread(migrate_with_demo_data, url)
    return url


async def own_database(settings: Settings) -> str:
    """A new database on the test PostgreSQL server, migrated, with the demo data."""
    url = make_url(settings.require_database_url())
    name = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url.render_as_string(hide_password=False), pool_size=1)
    try:
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return await migrated(url.set(database=name).render_as_string(hide_password=False))


@contextmanager
def worker_process(settings: Settings, client: Client, log_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m services.workers.main`, configured by environment like a deployment; killed on exit."""
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.require_database_url(),
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": client.namespace,
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        "DEVELOPMENT_POLICIES": "true",
    }
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.workers.main"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)
