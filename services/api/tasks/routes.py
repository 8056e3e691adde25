"""The task inbox: what waits for the caller, claims, assignments, and the overdue overview."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.api.access import TASK_ROLES, list_scope, require_role
from services.api.deps import CurrentAccount, SessionDep
from services.api.tasks import claims as task_claims
from services.api.tasks.inbox import my_tasks, one_task, overdue_overview, visible_task
from services.api.tasks.schemas import (
    Assignment,
    ClaimFilter,
    OverdueOverview,
    TaskPage,
    TaskSource,
    TaskView,
    VersionedChange,
)
from services.domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks 待办"])
TaskId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("", response_model=TaskPage, summary="我的待办")
async def list_my_tasks(
    account: CurrentAccount,
    session: SessionDep,
    source: TaskSource | None = Query(
        default=None, description="来源：identification 识别认定，monitoring 监测帮扶，self_report 农户申报"
    ),
    step: Annotated[
        str | None,
        Query(max_length=40, description="环节，如 home_verification、visit、self_report_acceptance、escalation"),
    ] = None,
    village: Annotated[str | None, Query(description="村级区划代码（须在本人辖区内）")] = None,
    overdue: bool | None = Query(default=None, description="只看超期（true）或未超期（false）"),
    claimed: ClaimFilter | None = Query(default=None, description="mine 本人认领，free 无人认领，others 他人认领"),
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> TaskPage:
    """Open tasks the caller's role takes inside the caller's area, soonest due first (stable
    cursor pages; tasks without a deadline of their own, `due_at` null, last), with `counts` of
    open tasks per step for the whole inbox. Every kind of task is here: identification steps and
    follow-ups, monitoring (support person, plan, measures, visits, exit steps), self-report
    acceptance, escalations; `source` narrows to one workflow."""
    require_role(account, *TASK_ROLES)
    if village is not None:
        list_scope(account, village)
    return await my_tasks(session, account, datetime.now(UTC), source, step, village, overdue, claimed, limit, cursor)


@router.get(
    "/overdue", response_model=OverdueOverview, summary="超期督办：按镇（县级）或按村（镇级）统计的超期任务和案件"
)
async def overdue_tasks(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="县或镇的区划代码，默认本人辖区")] = None,
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> OverdueOverview:
    require_role(account, Role.county_officer, Role.township_approver)
    return await overdue_overview(session, account, list_scope(account, area), datetime.now(UTC), limit, cursor)


@router.get("/{task_id}", response_model=TaskView, summary="任务详情")
async def get_task(task_id: TaskId, account: CurrentAccount, session: SessionDep) -> TaskView:
    await visible_task(session, account, task_id)
    return await one_task(session, task_id, account, datetime.now(UTC))


@router.post("/{task_id}/claim", response_model=TaskView, summary="认领任务")
async def claim_task(task_id: TaskId, body: VersionedChange, account: CurrentAccount, session: SessionDep) -> TaskView:
    """409 `task_claimed` (naming who holds it), `version_conflict` or `task_closed` when someone was first."""
    await task_claims.claim(session, await visible_task(session, account, task_id), account, body.version)
    await session.commit()
    return await one_task(session, task_id, account, datetime.now(UTC))


@router.post("/{task_id}/release", response_model=TaskView, summary="释放本人认领的任务")
async def release_task(
    task_id: TaskId, body: VersionedChange, account: CurrentAccount, session: SessionDep
) -> TaskView:
    await task_claims.release(session, await visible_task(session, account, task_id), account, body.version)
    await session.commit()
    return await one_task(session, task_id, account, datetime.now(UTC))


@router.post("/{task_id}/assign", response_model=TaskView, summary="改派任务（镇审核人员、县乡村振兴局）")
async def assign_task(task_id: TaskId, body: Assignment, account: CurrentAccount, session: SessionDep) -> TaskView:
    task = await visible_task(session, account, task_id)
    await task_claims.assign(session, task, account, body.version, body.username)
    await session.commit()
    return await one_task(session, task_id, account, datetime.now(UTC))
