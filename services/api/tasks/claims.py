"""Claiming, releasing and assigning tasks, and the check every action on a case makes first.

Claims live in PostgreSQL with an optimistic version: each change is one
`UPDATE … WHERE id = :id AND version = :v`, so of two people acting on the same version one
wins and the other gets 409 with what the task looks like now. The workflow stays the
authority on the step: a claim only says who works on it. An action on a case whose task
someone else holds is refused with 409 naming the holder; a race between a claim and an
action the instant before it is settled by the workflow (the step moves once, the task closes).
Each change and its audit row are one transaction, committed by the caller (the request).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import conflict, forbidden, invalid
from services.db.audit import append_audit
from services.db.tables import Account, Task
from services.domain.areas import area_contains
from services.domain.tasks import designated
from services.domain.vocabulary import ROLE_LABELS, Action, Role, task_roles

# Who may hand a task to someone (DOMAIN.md: the township and the county for their cadres).
ASSIGNING_ROLES = (Role.township_approver, Role.county_officer)
# The tasks an action settles, when they are not named after the action itself.
_SETTLES: dict[str, str] = {Action.resend_cross_check: Action.record_cross_check}
# A task someone else holds, checked before every action: built once, a request binds its values.
_HELD = (
    select(Task)
    .where(
        col(Task.case_id) == bindparam("case_id"),
        col(Task.closed_at).is_(None),
        col(Task.action) == bindparam("action"),
        col(Task.claimed_by).is_not(None),
        col(Task.claimed_by) != bindparam("username"),
    )
    .limit(1)
)
_HELD_AMONG = _HELD.where(col(Task.subject).in_(bindparam("subjects", expanding=True)))  # of these subjects


def _claim_state(task: Task) -> dict[str, Any]:
    return {"claimed_by": task.claimed_by, "assigned_by": task.assigned_by, "version": task.version}


def require_actor(account: Account, task: Task) -> None:
    """Only people of the task's role, inside its area, may take it; only its designated person
    (a monitoring period's support person), where it has one."""
    if task.role not in task_roles(account.role) or not area_contains(account.area_code, task.area_code):
        raise forbidden(f"只有{ROLE_LABELS[Role(task.role)]}可以办理此任务")
    if designated(task.detail) not in (None, account.username):
        raise forbidden("只有该户的帮扶责任人可以办理此任务")


async def _holder_conflict(session: AsyncSession, task: Task) -> Exception:
    name = await session.scalar(select(col(Account.display_name)).where(col(Account.username) == task.claimed_by))
    return conflict(
        "task_claimed",
        f"该任务已由「{name or task.claimed_by}」认领，请联系其释放，或由上级改派",
        task_id=task.id,
        claimed_by=task.claimed_by,
        claimed_by_name=name,
        version=task.version,
    )


async def _refusal(session: AsyncSession, task_id: int, account: Account, version: int) -> Exception:
    """Why a versioned change matched no row."""
    task = await session.get(Task, task_id, populate_existing=True)
    assert task is not None
    if task.closed_at is not None:
        return conflict("task_closed", "该任务已办结", task_id=task.id)
    if task.claimed_by not in (None, account.username):
        return await _holder_conflict(session, task)
    return conflict(
        "version_conflict",
        "该任务刚被他人更新，请刷新后重试",
        task_id=task.id,
        version=task.version,
        your_version=version,
        claimed_by=task.claimed_by,
    )


async def _change(
    session: AsyncSession,
    task: Task,
    account: Account,
    version: int,
    action: str,
    data: dict[str, Any],
    *conditions: Any,
    **values: Any,
) -> None:
    before = _claim_state(task)
    changed = await session.execute(
        update(Task)
        .where(col(Task.id) == task.id, col(Task.version) == version, col(Task.closed_at).is_(None), *conditions)
        .values(version=col(Task.version) + 1, **values)
        .returning(col(Task.id))
    )
    if changed.first() is None:
        assert task.id is not None  # a stored task
        raise await _refusal(session, task.id, account, version)
    await session.refresh(task)
    await append_audit(
        session,
        account,
        action,
        "task",
        str(task.id),
        {"version": version, **data},
        before=before,
        after=_claim_state(task),
        case_id=task.case_id,
    )


async def claim(session: AsyncSession, task: Task, account: Account, version: int) -> None:
    require_actor(account, task)
    if task.claimed_by == account.username and task.closed_at is None:
        return  # already mine: a repeated claim changes nothing
    await _change(
        session,
        task,
        account,
        version,
        "claim_task",
        {},
        col(Task.claimed_by).is_(None),
        claimed_by=account.username,
        claimed_at=func.now(),
        assigned_by=None,
    )


async def release(session: AsyncSession, task: Task, account: Account, version: int) -> None:
    require_actor(account, task)
    if task.claimed_by is None and task.closed_at is None:
        return
    if task.claimed_by != account.username and task.closed_at is None:
        raise await _holder_conflict(session, task)
    await _change(
        session,
        task,
        account,
        version,
        "release_task",
        {},
        col(Task.claimed_by) == account.username,
        claimed_by=None,
        claimed_at=None,
        assigned_by=None,
    )


async def assign(session: AsyncSession, task: Task, account: Account, version: int, username: str | None) -> None:
    """A township approver or county officer hands a task of their area to one of its people
    (or takes it back from whoever holds it: `username` None)."""
    if account.role not in ASSIGNING_ROLES:
        raise forbidden("只有镇审核人员或县乡村振兴局可以改派任务")
    if not area_contains(account.area_code, task.area_code):
        raise forbidden("该任务不在您的管辖区域内，不能改派")
    if username is not None:
        assignee = await session.get(Account, username) if len(username) <= 50 else None
        if (
            assignee is None
            or assignee.disabled
            or assignee.role != task.role
            or not area_contains(assignee.area_code, task.area_code)
            or designated(task.detail) not in (None, username)
        ):
            raise invalid("username", f"只能改派给本任务所属区域内在用的{ROLE_LABELS[Role(task.role)]}账号")
    await _change(
        session,
        task,
        account,
        version,
        "assign_task",
        {"username": username},
        claimed_by=username,
        claimed_at=func.now() if username else None,
        assigned_by=account.username if username else None,
    )


async def require_free_to_act(
    session: AsyncSession, account: Account, case_id: str, action: str, subjects: list[str] | None
) -> None:
    """409 when someone else holds the task this action would settle (`case_id`: the case,
    monitoring period or application the task belongs to)."""
    values = {"case_id": case_id, "action": _SETTLES.get(action, action), "username": account.username}
    query = _HELD_AMONG if subjects else _HELD
    held = (await session.scalars(query, {**values, "subjects": subjects} if subjects else values)).first()
    if held is not None:
        raise await _holder_conflict(session, held)
