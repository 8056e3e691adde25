"""The import job's activity: reads a stored file chunk by chunk, checks every row and writes the
good ones (services/db/screening_imports.py), with the job's progress and refusals in PostgreSQL.

Row by row, each chunk commits with the job's progress, so a restarted attempt resumes after the
last committed chunk. All or nothing, the rows go in one transaction committed only if no row was
refused (refusals and progress are written beside it, so they are seen while it runs); a restarted
attempt starts the file again. Either way the rows go through one connection for the job, its
PostgreSQL backend reniced once (services/workers/screening/priority.py).
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import tempfile
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from openpyxl.utils.exceptions import InvalidFileException
from pydantic import BaseModel
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col
from temporalio import activity

from services.db.screening import IMPORT_FINISHED, ImportFilePart, ImportJob, ImportRejection
from services.db.screening_imports import ChunkOutcome, write_chunk
from services.domain.screening.import_rows import (
    Heading,
    ImportKind,
    ImportMode,
    Refusal,
    key_reader,
    repeated_key,
)
from services.workers.screening.file_rows import BROKEN_SHEET, Unreadable, file_rows, heading_row
from services.workers.screening.priority import yield_cores_in_backend, yield_cores_in_this_thread

# Rows per chunk: each chunk costs a few statements and (row by row) a commit whatever its size;
# 20,000 rows keep that overhead small and the worker's memory at a few megabytes.
CHUNK_ROWS = 20_000


class ImportStart(BaseModel):
    """`ImportWorkflow`'s input (here, in a module the workflow sandbox passes through: see
    tests/workflows/test_workflow_modules.py)."""

    job_id: int
    county_code: str
    started_by: str
    screen_year: int | None = None  # screen what the import changed, for this year


class ImportActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="run_import")
    async def run_import(self, job_id: int) -> str:
        """Answers the job's final status (one of IMPORT_FINISHED)."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(ImportJob).where(col(ImportJob.id) == job_id))).one()
        job = ImportJob.model_validate(row._mapping)
        if job.status in IMPORT_FINISHED:
            return job.status
        with tempfile.TemporaryDirectory(prefix="import-") as folder:
            path = Path(folder) / f"file.{job.file_format}"
            await self._download(job_id, path)
            if job.mode == ImportMode.row_by_row:
                return await self._row_by_row(job, path)
            return await self._all_or_nothing(job, path)

    async def _download(self, job_id: int, path: Path) -> None:
        """The file to disk one 1 MB part at a time (a cursor's prefetch would hold 50 of them)."""
        async with self._engine.connect() as conn:
            with path.open("wb") as file:
                for part in itertools.count():
                    content = await conn.scalar(
                        select(col(ImportFilePart.content)).where(
                            col(ImportFilePart.job_id) == job_id, col(ImportFilePart.part) == part
                        )
                    )
                    if content is None:
                        return
                    file.write(content)

    async def _row_by_row(self, job: ImportJob, path: Path) -> str:
        assert job.id is not None
        await self._set(job.id, status="running")
        unreadable = truncated = False
        async with self._engine.connect() as conn:  # one connection for the job, so its backend is reniced once
            await yield_cores_in_backend(conn)
            await conn.commit()
            async for chunk in _read_ahead(_chunks(job, path, skip=job.rows_read)):
                unreadable = chunk.heading_refused
                truncated = truncated or chunk.truncated
                async with conn.begin():  # each chunk commits with its progress
                    outcome = await _write(conn, job, chunk)
                    await _record_refusals(conn, job.id, [*chunk.refusals, *outcome.refusals])
                    await _count(conn, job.id, chunk, outcome)
                activity.heartbeat(chunk.last_row)
        return await self._finish(job, "rejected" if unreadable else "truncated" if truncated else "done")

    async def _all_or_nothing(self, job: ImportJob, path: Path) -> str:
        assert job.id is not None
        async with self._engine.begin() as conn:  # what an interrupted attempt left is counted again
            await conn.execute(delete(ImportRejection).where(col(ImportRejection.job_id) == job.id))
            await _reset(conn, job.id)
        refused = False
        async with self._engine.connect() as data:
            transaction = await data.begin()
            await yield_cores_in_backend(data)
            async for chunk in _read_ahead(_chunks(job, path, skip=0)):
                outcome = await _write(data, job, chunk)
                refusals = [*chunk.refusals, *outcome.refusals]
                refused = refused or bool(refusals)
                async with self._engine.begin() as side:
                    await _record_refusals(side, job.id, refusals)
                    await _count(side, job.id, chunk, outcome)
                activity.heartbeat(chunk.last_row)
            await (transaction.rollback() if refused else transaction.commit())
        if refused:  # nothing of the file was taken: no row counts as changed
            await self._set(job.id, rows_changed=0, rows_unchanged=0)
        return await self._finish(job, "rejected" if refused else "done")

    async def _set(self, job_id: int | None, **values: Any) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(ImportJob).where(col(ImportJob.id) == job_id).values(**values))

    async def _finish(self, job: ImportJob, status: str) -> str:
        await self._set(job.id, status=status, finished_at=func.now(), rows_total=col(ImportJob.rows_read))
        return status


# What reading a file that is not what its name says raises (openpyxl's and the csv module's).
_UNREADABLE = (*BROKEN_SHEET, InvalidFileException, csv.Error)


class _Chunk:
    def __init__(self) -> None:
        self.rows: list[tuple[int, dict[str, Any]]] = []
        self.refusals: list[Refusal] = []
        self.read = 0
        self.last_row = 1
        self.heading_refused = False  # the file lacks a column: none of its rows can be read
        self.truncated = False  # the file could not be read past its last row


def _chunks(job: ImportJob, path: Path, skip: int) -> Iterator[_Chunk]:
    """The file's data rows in chunks, each row checked cell by cell and against the chunk's earlier
    rows; `skip` data rows already taken by an earlier attempt are passed over."""
    kind = ImportKind(job.kind)
    rows = file_rows(path, job.file_format)
    try:
        heading = Heading(kind, heading_row(rows))
    except _UNREADABLE:  # not a spreadsheet, or text in neither encoding: refused, not a failed activity
        yield _file_refused(Refusal(1, "文件", "无法读取该文件：应为 CSV（UTF-8 或 GB18030 编码）或 Excel（.xlsx）"))
        return
    if heading.missing:
        yield _file_refused(Refusal(1, "表头", f"缺少列：{'、'.join(heading.missing)}"))
        return
    chunk, seen = _Chunk(), 0
    for number, cells in enumerate(rows, start=2):
        if isinstance(cells, Unreadable):
            chunk.truncated = cells.rest  # refused below; nothing after it is read
        elif _blank(cells):
            continue  # an empty line, as spreadsheets leave at the end
        seen += 1
        if seen <= skip:
            continue
        chunk.read += 1
        chunk.last_row = number
        values = (
            [Refusal(number, "文件", cells.message)] if isinstance(cells, Unreadable) else heading.read(number, cells)
        )
        if isinstance(values, list):
            chunk.refusals.extend(values)
        else:
            chunk.rows.append((number, values))
        if chunk.read >= CHUNK_ROWS:
            yield _deduplicated(kind, chunk)
            chunk = _Chunk()
    if chunk.read or chunk.refusals or chunk.truncated:
        yield _deduplicated(kind, chunk)


def _file_refused(refusal: Refusal) -> _Chunk:
    chunk = _Chunk()
    chunk.refusals = [refusal]
    chunk.heading_refused = True
    return chunk


async def _read_ahead(chunks: Iterator[_Chunk]) -> AsyncIterator[_Chunk]:
    """The chunks, the next one read and checked in a thread while the database writes this one."""
    loop = asyncio.get_running_loop()
    reader = ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="import-reader", initializer=yield_cores_in_this_thread
    )
    try:
        ahead = loop.run_in_executor(reader, next, chunks, None)
        while (chunk := await ahead) is not None:
            ahead = loop.run_in_executor(reader, next, chunks, None)
            yield chunk
    finally:
        reader.shutdown(wait=False)


def _blank(cells: list[Any]) -> bool:
    try:
        return not "".join(cells).strip()  # a CSV row: text only
    except TypeError:  # an Excel row: numbers and empty cells too
        return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _deduplicated(kind: ImportKind, chunk: _Chunk) -> _Chunk:
    first: dict[Any, int] = {}
    kept = []
    key_of = key_reader(kind)
    for number, values in chunk.rows:
        key = key_of(values)
        if key in first:
            chunk.refusals.append(repeated_key(kind, number, first[key]))
        else:
            first[key] = number
            kept.append((number, values))
    chunk.rows = kept
    return chunk


async def _write(conn: AsyncConnection, job: ImportJob, chunk: _Chunk) -> ChunkOutcome:
    assert job.id is not None
    if not chunk.rows:
        return ChunkOutcome(0, 0, [])
    return await write_chunk(conn, ImportKind(job.kind), job.id, job.county_code, job.created_by, chunk.rows)


async def _record_refusals(conn: AsyncConnection, job_id: int, refusals: list[Refusal]) -> None:
    if refusals:
        await conn.execute(
            insert(ImportRejection),
            [{"job_id": job_id, "row_number": r.row, "field": r.field, "message": r.message[:500]} for r in refusals],
        )


async def _count(conn: AsyncConnection, job_id: int, chunk: _Chunk, outcome: ChunkOutcome) -> None:
    rejected = len({r.row for r in [*chunk.refusals, *outcome.refusals]})
    await conn.execute(
        update(ImportJob)
        .where(col(ImportJob.id) == job_id)
        .values(
            rows_read=col(ImportJob.rows_read) + chunk.read,
            rows_changed=col(ImportJob.rows_changed) + outcome.changed,
            rows_unchanged=col(ImportJob.rows_unchanged) + outcome.unchanged,
            rows_rejected=col(ImportJob.rows_rejected) + rejected,
        )
    )


async def _reset(conn: AsyncConnection, job_id: int) -> None:
    await conn.execute(
        update(ImportJob)
        .where(col(ImportJob.id) == job_id)
        .values(status="running", rows_read=0, rows_changed=0, rows_unchanged=0, rows_rejected=0)
    )
