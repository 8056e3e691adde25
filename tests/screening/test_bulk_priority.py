"""Bulk work yields the cores to requests: the PostgreSQL backend serving an import's or a run's
statements runs at a lower CPU priority when it is on this machine (as in the tests); an import
renices the one backend writing all its chunks, once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.db.bulk_engine import create_bulk_engine
from services.db.screening_imports import ChunkOutcome, write_chunk
from services.demo_case import DEMO_VILLAGE, CaseDriver
from services.settings import Settings
from services.workers.screening import imports
from services.workers.screening.priority import BULK_NICENESS, yield_cores_in_backend
from tests.screening.files import csv_file, finished_job, fresh_codes, send_import


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


async def _backend(conn: AsyncConnection) -> int:
    return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_an_import_renices_the_backend_writing_its_chunks_once(
    driver: CaseDriver, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five rows in chunks of two (the worker runs in this process): in both modes every chunk is
    written by the one backend reniced, and it is reniced once."""
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    reniced: list[int] = []
    writers: set[int] = set()

    async def renice(conn: AsyncConnection) -> None:
        reniced.append(await _backend(conn))
        await yield_cores_in_backend(conn)

    async def write(conn: AsyncConnection, *args: Any) -> ChunkOutcome:
        writers.add(await _backend(conn))
        return await write_chunk(conn, *args)

    monkeypatch.setattr(imports, "yield_cores_in_backend", renice)
    monkeypatch.setattr(imports, "write_chunk", write)
    heading = ["户编号", "村代码", "户主姓名", "住址", "家庭人口"]
    rows = [heading, *([code, DEMO_VILLAGE, "分块户", "九组", 2] for code in await fresh_codes(settings, 5))]
    for mode in ("row_by_row", "all_or_nothing"):
        reniced.clear()
        writers.clear()
        job = await finished_job(driver, (await send_import(driver, "households", csv_file(rows), mode=mode))["job_id"])
        assert (job["status"], job["rows_read"], job["rows_rejected"]) == ("done", 5, 0), mode
        assert len(reniced) == 1 and writers == set(reniced), mode
