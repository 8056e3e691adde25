"""Import jobs: storing a file as a job (the same file again answers the same job) and starting
its workflow; reading its progress and refused rows. County officers of the county only."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import insert as insert_rows
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from services.api.errors import workflow_unavailable
from services.api.screening.schemas import ImportAbout, ImportJobView, RejectionPage, RejectionView
from services.db.audit import append_audit
from services.db.screening import ImportFilePart, ImportJob, ImportRejection
from services.db.tables import Account
from services.domain.areas import county_of
from services.domain.screening.import_rows import COLUMNS
from services.workflows.screening import ImportStart, ImportWorkflow

PART_BYTES = 1 << 20
COLUMNS_MOST = range(max(len(c) for c in COLUMNS.values()) + 1)


async def store_import(
    session: AsyncSession, body: ImportAbout, digest: str, parts: AsyncIterator[bytes], account: Account
) -> tuple[ImportJob, bool]:
    """The job for this file, whose SHA-256 is `digest` and whose content `parts` gives in parts of
    at most PART_BYTES (read only for a new job): new, or the one that took the same file before
    (`repeated`). The caller commits."""
    county = county_of(account.area_code)
    job_id = await session.scalar(
        insert(ImportJob)
        .values(
            county_code=county,
            kind=body.kind,
            mode=body.mode,
            file_name=body.file_name,
            file_format=body.file_format,
            content_hash=digest,
            status="queued",
            rows_total=0,
            rows_read=0,
            rows_changed=0,
            rows_unchanged=0,
            rows_rejected=0,
            created_by=account.username,
        )
        .on_conflict_do_nothing(constraint="uq_import_jobs_file")
        .returning(col(ImportJob.id))
    )
    if job_id is None:
        existing = await session.scalar(
            select(ImportJob).where(
                col(ImportJob.county_code) == county,
                col(ImportJob.kind) == body.kind,
                col(ImportJob.mode) == body.mode,
                col(ImportJob.content_hash) == digest,
            )
        )
        assert existing is not None
        return existing, True
    await _store_file_parts(session, job_id, parts)
    job = await session.get(ImportJob, job_id)
    assert job is not None
    # Audited as it is sent (the worker then reads it): who brought which file in, and how.
    given = {"kind": body.kind, "mode": body.mode, "file_name": body.file_name, "content_hash": digest}
    await append_audit(session, account, "import_household_data", "import_job", str(job_id), given)
    return job, False


async def _store_file_parts(session: AsyncSession, job_id: int, parts: AsyncIterator[bytes]) -> None:
    """One statement per part, none kept in the session: a file of a gigabyte never sits in memory."""
    number = 0
    async for content in parts:
        await session.execute(insert_rows(ImportFilePart).values(job_id=job_id, part=number, content=content))
        number += 1


async def parts_of(content: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(content), PART_BYTES):
        yield content[start : start + PART_BYTES]


async def start_import(client: Client, task_queue: str, job: ImportJob, screen_year: int | None) -> None:
    """Starts the job's workflow; for a job started before (a repeated file) this does nothing."""
    assert job.id is not None
    try:
        await client.start_workflow(
            ImportWorkflow.run,
            ImportStart(job_id=job.id, county_code=job.county_code, started_by=job.created_by, screen_year=screen_year),
            id=f"import-{job.id}",
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        return  # a finished job's workflow: nothing more to start
    except RPCError as error:
        raise workflow_unavailable() from error


def job_view(job: ImportJob, repeated: bool = False) -> ImportJobView:
    assert job.id is not None
    return ImportJobView.model_validate({**job.model_dump(), "job_id": job.id, "repeated": repeated})


async def rejection_page(session: AsyncSession, job_id: int, after: int, limit: int) -> RejectionPage:
    rows = list(
        await session.scalars(
            select(ImportRejection)
            .where(col(ImportRejection.job_id) == job_id, col(ImportRejection.row_number) > after)
            .order_by(col(ImportRejection.row_number), col(ImportRejection.id))
            .limit(limit + len(COLUMNS_MOST))
        )
    )
    # A row refused for several reasons (one per column at most) is never cut between two pages.
    last = rows[min(limit, len(rows)) - 1].row_number if rows else 0
    items = [r for r in rows if r.row_number <= last]
    more = len(rows) > len(items)
    return RejectionPage(
        items=[RejectionView(row_number=r.row_number, field=r.field, message=r.message) for r in items],
        next_after=items[-1].row_number if more and items else None,
    )
