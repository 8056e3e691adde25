"""Reading the task inbox: "my tasks" (what the caller's role may act on inside their area),
one task, and the overdue overview by area. Every kind of wait is here: identification steps and
follow-ups, a monitoring period's waits and exit steps, self-report acceptance, escalations.

Pages are keyset pages on (due_at, id) over partial indexes of open tasks (migration 0005),
and the counts per step come from `task_counts` (kept by a trigger), so a page costs the same
whether the database holds a thousand cases or a million.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Select, and_, func, literal, select, tuple_
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import pagination
from services.api.access import TASK_ROLES, require_role, require_visible
from services.api.errors import invalid, not_found
from services.api.tasks.schemas import AreaOverdue, ClaimFilter, OverdueOverview, TaskPage, TaskSource, TaskView
from services.db.tables import Account, Area, CaseRecord, Household, Task, TaskCount
from services.domain.areas import AreaLevel, area_level
from services.domain.tasks import NO_DEADLINE, TASK_STEP_LABELS, designated
from services.domain.vocabulary import ROLE_LABELS, Role, task_roles


def task_view(
    task: Task,
    head_name: str | None,
    village_name: str | None,
    reader: Account,
    now: datetime,
    holder_name: str | None = None,
) -> TaskView:
    return TaskView(
        task_id=task.id,
        source=task.source,
        step=task.step,
        step_label=TASK_STEP_LABELS.get(task.step, task.step),
        title=task.title,
        action=task.action,
        subject=task.subject,
        case_id=task.case_id,
        household_code=task.household_code,
        head_name=head_name,
        village_code=task.village_code,
        village_name=village_name,
        role=task.role,
        role_label=ROLE_LABELS.get(Role(task.role), task.role),
        area_code=task.area_code,
        due_at=None if task.due_at >= NO_DEADLINE else task.due_at,
        overdue=task.closed_at is None and task.due_at <= now,
        escalated_at=task.escalated_at,
        opened_at=task.opened_at,
        closed_at=task.closed_at,
        claimed_by=task.claimed_by,
        claimed_by_name=holder_name,
        claimed_at=task.claimed_at,
        assigned_by=task.assigned_by,
        can_act=task.closed_at is None
        and task.claimed_by in (None, reader.username)
        and task.role in task_roles(reader.role)
        and designated(task.detail) in (None, reader.username),
        version=task.version,
        detail=task.detail,
    )


def _with_names(page: Select[Any]) -> Select[Task, str, str, str]:
    """The page's tasks (found first, on the tasks table alone) with the names a reader needs."""
    found = page.subquery()
    task = aliased(Task, found)
    holder = aliased(Account)
    return (
        select(task, col(Household.head_name), col(Area.name), col(holder.display_name))
        .join(Household, col(Household.code) == col(task.household_code), isouter=True)
        .join(Area, col(Area.code) == col(task.village_code), isouter=True)
        .join(holder, col(holder.username) == col(task.claimed_by), isouter=True)
        .order_by(col(task.due_at), col(task.id))
    )


def _page(query: Select[Any], cursor: str | None, limit: int) -> Select[Any]:
    if cursor is not None:
        due_at, task_id = pagination.decode_numbered(cursor)
        # The id typed as the column (bigint): a row comparison with an int4 is not an index condition.
        after = tuple_(literal(due_at, DateTime(timezone=True)), literal(task_id, BigInteger))
        query = query.where(tuple_(col(Task.due_at), col(Task.id)) > after)
    return query.order_by(col(Task.due_at), col(Task.id)).limit(limit + 1)


async def _items(
    session: AsyncSession, query: Select[Any], cursor: str | None, limit: int, reader: Account, now: datetime
) -> tuple[list[TaskView], str | None]:
    rows = (await session.execute(_with_names(_page(query, cursor, limit)))).all()
    items = [task_view(task, head, village, reader, now, holder) for task, head, village, holder in rows[:limit]]
    last = rows[limit - 1][0] if len(rows) > limit else None
    return items, pagination.encode(last.due_at, str(last.id)) if last else None


async def my_tasks(
    session: AsyncSession,
    account: Account,
    now: datetime,
    source: TaskSource | None,
    step: str | None,
    village: str | None,
    overdue: bool | None,
    claimed: ClaimFilter | None,
    limit: int,
    cursor: str | None,
) -> TaskPage:
    """Open tasks for the caller's role in the caller's area, soonest due first, with counts per step."""
    roles = sorted(task_roles(account.role))
    query = select(Task).where(
        col(Task.closed_at).is_(None), col(Task.area_code) == account.area_code, col(Task.role).in_(roles)
    )
    if source is not None:
        query = query.where(col(Task.source) == source)
    if step is not None:
        query = query.where(col(Task.step) == step)
    if village is not None:
        query = query.where(col(Task.village_code) == village)
    if overdue is not None:
        query = query.where(col(Task.due_at) <= now if overdue else col(Task.due_at) > now)
    if claimed == "mine":
        query = query.where(col(Task.claimed_by) == account.username)
    elif claimed == "free":
        query = query.where(col(Task.claimed_by).is_(None))
    elif claimed == "others":
        query = query.where(col(Task.claimed_by) != account.username)
    items, next_cursor = await _items(session, query, cursor, limit, account, now)
    counts = dict(
        (
            await session.execute(
                select(col(TaskCount.step), func.sum(col(TaskCount.open)).cast(BigInteger))
                .where(
                    col(TaskCount.area_code) == account.area_code,
                    col(TaskCount.role).in_(roles),
                    col(TaskCount.open) > 0,
                )
                .group_by(col(TaskCount.step))
                .order_by(col(TaskCount.step))
            )
        )
        .tuples()
        .all()
    )
    return TaskPage(items=items, next_cursor=next_cursor, counts=counts, total=sum(counts.values()))


_NOT_FOUND = "没有找到该任务，或不在您的管辖区域内"


async def visible_task(session: AsyncSession, reader: Account, task_id: int) -> Task:
    """The task, for people who work on tasks, if it lies inside the reader's area; 404 whether
    it is missing or only out of sight."""
    require_role(reader, *TASK_ROLES)
    task = await session.get(Task, task_id)
    if task is None:
        raise not_found(_NOT_FOUND)
    require_visible(reader, task.village_code, _NOT_FOUND)
    return task


async def one_task(session: AsyncSession, task_id: int, reader: Account, now: datetime) -> TaskView:
    """A task the reader may see (found with `visible_task`), as it stands now."""
    row = (await session.execute(_with_names(select(Task).where(col(Task.id) == task_id)))).one()
    task, head, village, holder = row
    return task_view(task, head, village, reader, now, holder)


_CHILD_COLUMN = {AreaLevel.county: "township_code", AreaLevel.township: "village_code"}
_OWN_COLUMN = {AreaLevel.county: "county_code", AreaLevel.township: "township_code"}


async def overdue_overview(
    session: AsyncSession, account: Account, scope: str, now: datetime, limit: int, cursor: str | None
) -> OverdueOverview:
    """Overdue open tasks (every role) and overdue cases inside `scope`, counted by the areas one
    level down (a county by township, a township by village), and the overdue tasks themselves."""
    level = area_level(scope)
    if level not in _CHILD_COLUMN:
        raise invalid("area", "请按县或镇查看超期情况")
    own, child = _OWN_COLUMN[level], _CHILD_COLUMN[level]
    late_tasks = dict(
        (
            await session.execute(
                select(getattr(Task, child), func.count())
                .where(getattr(Task, own) == scope, col(Task.closed_at).is_(None), col(Task.due_at) <= now)
                .group_by(getattr(Task, child))
            )
        )
        .tuples()
        .all()
    )
    late_cases = dict(
        (
            await session.execute(
                select(getattr(CaseRecord, child), func.count())
                .where(
                    getattr(CaseRecord, own) == scope,
                    col(CaseRecord.closed_at).is_(None),
                    col(CaseRecord.due_at) <= now,
                )
                .group_by(getattr(CaseRecord, child))
            )
        )
        .tuples()
        .all()
    )
    areas = (
        (
            await session.execute(
                select(col(Area.code), col(Area.name)).where(col(Area.parent_code) == scope).order_by(col(Area.code))
            )
        )
        .tuples()
        .all()
    )
    items, next_cursor = await _items(
        session,
        select(Task).where(and_(getattr(Task, own) == scope, col(Task.closed_at).is_(None), col(Task.due_at) <= now)),
        cursor,
        limit,
        account,
        now,
    )
    return OverdueOverview(
        area_code=scope,
        by_area=[
            AreaOverdue(
                area_code=code, name=name, overdue_tasks=late_tasks.get(code, 0), overdue_cases=late_cases.get(code, 0)
            )
            for code, name in areas
        ],
        items=items,
        next_cursor=next_cursor,
    )
