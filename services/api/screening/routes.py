"""全农户排查 endpoints: bulk imports, the rules' preview, screening runs, screening visits."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from services.api.access import list_scope, require_role, visible
from services.api.deps import CurrentAccount, Resources, SessionDep
from services.api.errors import ErrorAnswer, invalid, not_found
from services.api.screening.imports import job_view, parts_of, rejection_page, start_import, store_import
from services.api.screening.preview import preview
from services.api.screening.runs import hit_page, run_list, run_view, start_run
from services.api.screening.schemas import (
    GridHouseholdPage,
    HitPage,
    ImportIn,
    ImportJobView,
    PreviewIn,
    PreviewView,
    RejectionPage,
    RunIn,
    RunView,
    VisitIn,
    VisitView,
    Year,
)
from services.api.screening.uploads import UPLOAD_BODY, file_digest, file_parts, read_upload
from services.api.screening.visits import household_page, record_visit
from services.db.screening import ImportJob, ScreeningRun
from services.db.screening_runs import insert_run
from services.db.tables import Account, Household
from services.domain.areas import county_of
from services.domain.months import local_date
from services.domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/screening", tags=["screening 全农户排查"])

_NO_JOB = "没有找到该导入任务，或不在您的管辖区域内"
_NO_RUN = "没有找到该排查批次，或不在您的管辖区域内"
_NOT_IN_GRID = "没有找到该农户，或该农户不在您的网格内"
CodeAfter = Annotated[
    str | None, Query(min_length=18, max_length=18, pattern=r"^\d{18}$", description="下一页：上一页的 next_after")
]
Limit = Annotated[int, Query(ge=1, le=500)]
# Job and run ids are bigint identities: a larger number is refused (422), not sent to PostgreSQL.
JobId = Annotated[int, Path(ge=1, le=2**62, description="导入任务编号")]
RunId = Annotated[int, Path(ge=1, le=2**62, description="排查批次编号")]


@router.post(
    "/imports",
    status_code=201,
    summary="导入农户数据文件（CSV 或 Excel，base64，约2.9MB以内；更大的文件用 /imports/upload）：农户信息、分项收入、月度监测信号",
)
async def create_import(
    body: ImportIn, account: CurrentAccount, session: SessionDep, resources: Resources
) -> ImportJobView:
    """One job per file: the same file (same content, kind and mode) sent again answers its first job
    (`repeated: true`) and changes nothing. Rows are checked and written by the worker; follow the job's
    progress and refused rows with GET."""
    require_role(account, Role.county_officer)
    content = body.content
    digest = hashlib.sha256(content).hexdigest()
    job, repeated = await store_import(session, body, digest, parts_of(content), account)
    await session.commit()
    await start_import(resources.temporal, resources.settings.temporal_task_queue, job, body.screen_year)
    return job_view(job, repeated)


@router.post(
    "/imports/upload",
    status_code=201,
    summary="上传导入文件（multipart/form-data，大文件用此接口，不超过 IMPORT_MAX_BYTES）",
    openapi_extra=UPLOAD_BODY,
)
async def upload_import(
    request: Request, account: CurrentAccount, session: SessionDep, resources: Resources
) -> ImportJobView:
    """The same job as `POST /imports` (same file, kind and mode again: `repeated: true`), the file sent
    as a part `file` (its name ends .csv or .xlsx) beside `kind`, `mode` and `screen_year`. The body is
    read only once the role is checked, and streamed to disk, never held whole."""
    require_role(account, Role.county_officer)
    await session.commit()  # the account's read done: no pooled connection is held while the file arrives
    try:
        about, file = await read_upload(request, resources.settings.import_max_bytes)
        digest = await file_digest(file)
        job, repeated = await store_import(session, about, digest, file_parts(file), account)
        await session.commit()
    finally:
        await request.close()
    await start_import(resources.temporal, resources.settings.temporal_task_queue, job, about.screen_year)
    return job_view(job, repeated)


async def _job(session: SessionDep, account: Account, job_id: int) -> ImportJob:
    require_role(account, Role.county_officer, Role.admin)
    job = await session.get(ImportJob, job_id)
    if job is None or job.county_code != county_of(account.area_code):
        raise not_found(_NO_JOB)
    return job


@router.get("/imports/{job_id}", summary="导入任务进度")
async def get_import(job_id: JobId, account: CurrentAccount, session: SessionDep) -> ImportJobView:
    return job_view(await _job(session, account, job_id))


@router.get("/imports/{job_id}/rejections", summary="导入退回的行（行号和原因）")
async def list_rejections(
    job_id: JobId,
    account: CurrentAccount,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=2**31 - 1, description="从此行号之后开始")] = 0,
    limit: Limit = 100,
) -> RejectionPage:
    await _job(session, account, job_id)
    return await rejection_page(session, job_id, after, limit)


@router.post("/preview", summary="预览排查规则：按拟发布的政策参数，各乡镇将预警多少户")
async def preview_rules(body: PreviewIn, account: CurrentAccount, session: SessionDep) -> PreviewView:
    """Counts only (no household named), inside the reader's area; nothing is stored."""
    require_role(account, Role.county_officer, Role.admin, Role.township_approver)
    return await preview(session, account.area_code, body.year, body.policy)


@router.post("/runs", status_code=201, summary="开始一次全农户排查（按现行政策）")
async def create_run(body: RunIn, account: CurrentAccount, session: SessionDep, resources: Resources) -> RunView:
    require_role(account, Role.county_officer)
    run_id = await insert_run(session, county_of(account.area_code), body.year, account.username)
    await session.commit()
    await start_run(resources.temporal, resources.settings.temporal_task_queue, run_id)
    return run_view(await _run(session, account, run_id))


async def _run(session: SessionDep, account: Account, run_id: int) -> ScreeningRun:
    """A run is the county's (townships meet its leads in their cases and inboxes)."""
    require_role(account, Role.county_officer, Role.admin)
    run = await session.get(ScreeningRun, run_id, populate_existing=True)
    if run is None or run.county_code != county_of(account.area_code):
        raise not_found(_NO_RUN)
    return run


@router.get("/runs", summary="本县的排查批次，最新的在前")
async def list_runs(
    account: CurrentAccount,
    session: SessionDep,
    import_job: Annotated[int | None, Query(ge=1, le=2**62, description="只列此导入任务触发的排查")] = None,
    limit: Limit = 50,
) -> list[RunView]:
    require_role(account, Role.county_officer, Role.admin)
    return await run_list(session, county_of(account.area_code), import_job, limit)


@router.get("/runs/{run_id}", summary="排查批次进度")
async def get_run(run_id: RunId, account: CurrentAccount, session: SessionDep) -> RunView:
    return run_view(await _run(session, account, run_id))


@router.get("/runs/{run_id}/households", summary="排查预警的农户")
async def list_hits(
    run_id: RunId,
    account: CurrentAccount,
    session: SessionDep,
    township: Annotated[
        str | None, Query(min_length=12, max_length=12, pattern=r"^\d{9}000$", description="只列此乡镇")
    ] = None,
    after: CodeAfter = None,
    limit: Limit = 100,
) -> HitPage:
    await _run(session, account, run_id)
    return await hit_page(session, run_id, township, after, limit)


@router.post(
    "/visits",
    status_code=201,
    summary="登记排查走访（网格员）",
    responses={404: {"model": ErrorAnswer, "description": _NOT_IN_GRID}},
)
async def create_visit(body: VisitIn, account: CurrentAccount, session: SessionDep) -> VisitView:
    require_role(account, Role.grid_worker, Role.village_cadre)
    household = await visible(session, account, Household, body.household_code, _NOT_IN_GRID)
    if body.visited_on > local_date(datetime.now(UTC)):
        raise invalid("visited_on", "走访日期不能晚于今天")
    visit = await record_visit(session, household, body, account)
    await session.commit()
    return visit


@router.get("/households", summary="辖区农户及本年度排查走访情况；unvisited=true 只列本年度无人走访的农户")
async def list_households(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码，默认本人辖区")] = None,
    year: Annotated[Year | None, Query()] = None,
    unvisited: bool = False,
    after: CodeAfter = None,
    limit: Limit = 100,
) -> GridHouseholdPage:
    require_role(account, Role.grid_worker, Role.village_cadre, Role.township_approver, Role.county_officer)
    scope = list_scope(account, area)
    return await household_page(session, scope, year or local_date(datetime.now(UTC)).year, unvisited, after, limit)
