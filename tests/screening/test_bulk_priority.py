"""Bulk work yields the cores to requests: the PostgreSQL backend serving an import's or a run's
statements runs at a lower CPU priority when it is on this machine (as in the tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from services.db.bulk_engine import create_bulk_engine
from services.settings import Settings
from services.workers.screening.priority import BULK_NICENESS, yield_cores_in_backend


async def test_the_bulk_connections_backend_is_reniced_and_others_are_not(settings: Settings) -> None:
    engine = create_bulk_engine(settings.require_database_url(), pool_size=2)
    try:
        async with engine.connect() as bulk, engine.connect() as other:
            bulk_pid = (await bulk.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            other_pid = (await other.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            if not Path(f"/proc/{bulk_pid}").exists():
                pytest.skip("PostgreSQL runs on another machine: its backends are not reniced")
            if os.geteuid() != 0 and Path(f"/proc/{bulk_pid}").stat().st_uid != os.geteuid():
                pytest.skip("PostgreSQL runs as another user: this worker may not renice it")
            before = os.getpriority(os.PRIO_PROCESS, bulk_pid)
            await yield_cores_in_backend(bulk)
            assert os.getpriority(os.PRIO_PROCESS, bulk_pid) == BULK_NICENESS
            assert os.getpriority(os.PRIO_PROCESS, other_pid) == before
    finally:
        await engine.dispose()
