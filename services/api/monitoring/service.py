"""Reading monitoring periods: the one a reader may see, the period list, visit tasks and coverage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import pagination
from services.api.access import area_scope, visible
from services.api.monitoring.schemas import (
    CoverageRow,
    MonitoringPage,
    VisitCoverage,
    VisitTaskPage,
)
from services.api.monitoring.views import monitoring_summary, visit_task_view
from services.db.tables import Account, Area, FollowUpVisitTask, Household, MonitoringRecord, VisitTaskRecord
from services.domain.monitoring.vocabulary import TaskKind, VisitTaskStatus
from services.domain.months import local_date
from services.domain.vocabulary import HouseholdStatus, task_roles

# The coverage's name for households visited inside a monitoring period (the others: follow_up.Population).
MONITORED = "monitoring_target"


async def visible_period(session: AsyncSession, account: Account, monitoring_id: str) -> MonitoringRecord:
    return await visible(
        session, account, MonitoringRecord, monitoring_id, "没有找到该监测记录，或该户不在您的管辖区域内"
    )


@dataclass(frozen=True)
class PeriodFilter:
    scope: str  # an area code the reader may list
    status: HouseholdStatus | None = None
    household_code: str | None = None
    task: TaskKind | None = None
    waiting_for: Account | None = None  # only periods with a task for this person (their role, or assigned)


async def period_page(session: AsyncSession, wanted: PeriodFilter, limit: int, cursor: str | None) -> MonitoringPage:
    """Newest first."""
    query = (
        select(MonitoringRecord, col(Household.head_name))
        .join(Household, col(Household.code) == col(MonitoringRecord.household_code))
        .where(area_scope(MonitoringRecord, wanted.scope))
    )
    if wanted.status is not None:
        query = query.where(col(MonitoringRecord.status) == wanted.status)
    if wanted.household_code is not None:
        query = query.where(col(MonitoringRecord.household_code) == wanted.household_code)
    task: dict[str, Any] = {"kind": wanted.task} if wanted.task else {}
    if (person := wanted.waiting_for) is not None:
        query = query.where(
            or_(
                *(
                    col(MonitoringRecord.tasks).contains([{**task, "role": role, "assignee": None}])
                    for role in sorted(task_roles(person.role))
                ),
                col(MonitoringRecord.tasks).contains([{**task, "assignee": person.username}]),
            )
        )
    elif task:
        query = query.where(col(MonitoringRecord.tasks).contains([task]))
    query = pagination.newest_first(
        query, col(MonitoringRecord.since), col(MonitoringRecord.monitoring_id), cursor, limit
    )
    rows = (await session.execute(query)).all()
    last = rows[limit - 1][0] if len(rows) > limit else None
    return MonitoringPage(
        items=[monitoring_summary(record, head_name) for record, head_name in rows[:limit]],
        next_cursor=pagination.encode(last.since, last.monitoring_id) if last else None,
    )


@dataclass(frozen=True)
class VisitTaskFilter:
    scope: str
    period: str | None = None
    status: VisitTaskStatus | None = None
    household_code: str | None = None


async def visit_task_page(
    session: AsyncSession, wanted: VisitTaskFilter, limit: int, cursor: str | None
) -> VisitTaskPage:
    """Latest deadline first."""
    query = (
        select(VisitTaskRecord, col(Household.head_name))
        .join(Household, col(Household.code) == col(VisitTaskRecord.household_code))
        .where(area_scope(VisitTaskRecord, wanted.scope))
    )
    if wanted.period is not None:
        query = query.where(col(VisitTaskRecord.period) == wanted.period)
    if wanted.status is not None:
        query = query.where(col(VisitTaskRecord.status) == wanted.status)
    if wanted.household_code is not None:
        query = query.where(col(VisitTaskRecord.household_code) == wanted.household_code)
    if cursor is not None:
        due_at, key = pagination.decode(cursor)
        monitoring_id, _, task_period = key.partition("|")
        query = query.where(
            or_(
                col(VisitTaskRecord.due_at) < due_at,
                and_(col(VisitTaskRecord.due_at) == due_at, col(VisitTaskRecord.monitoring_id) < monitoring_id),
                and_(
                    col(VisitTaskRecord.due_at) == due_at,
                    col(VisitTaskRecord.monitoring_id) == monitoring_id,
                    col(VisitTaskRecord.period) < task_period,
                ),
            )
        )
    query = query.order_by(
        col(VisitTaskRecord.due_at).desc(),
        col(VisitTaskRecord.monitoring_id).desc(),
        col(VisitTaskRecord.period).desc(),
    ).limit(limit + 1)
    rows = (await session.execute(query)).all()
    last = rows[limit - 1][0] if len(rows) > limit else None
    return VisitTaskPage(
        items=[visit_task_view(task, head_name) for task, head_name in rows[:limit]],
        next_cursor=pagination.encode(last.due_at, f"{last.monitoring_id}|{last.period}") if last else None,
    )


async def visit_coverage(
    session: AsyncSession, scope: str, from_period: str, to_period: str, as_of: datetime | None = None
) -> VisitCoverage:
    """For every village and month: visits owed (monitored households, and the 脱贫户 and households
    whose risk is eliminated that are followed month by month), households visited, overdue (month
    ended without a visit), still open, and the coverage visited ÷ owed; the owed split by population.
    `as_of`: as things stood at that midnight (visited by the first visit's day; `visits` stays the count now)."""
    monitored = select(
        col(VisitTaskRecord.village_code),
        col(VisitTaskRecord.period),
        col(VisitTaskRecord.status),
        col(VisitTaskRecord.visit_count),
        col(VisitTaskRecord.due_at),
        col(VisitTaskRecord.first_visited_on),
        literal(MONITORED).label("population"),
    ).where(area_scope(VisitTaskRecord, scope), col(VisitTaskRecord.period).between(from_period, to_period))
    followed = select(
        col(FollowUpVisitTask.village_code),
        col(FollowUpVisitTask.period),
        col(FollowUpVisitTask.status),
        col(FollowUpVisitTask.visit_count),
        col(FollowUpVisitTask.due_at),
        col(FollowUpVisitTask.first_visited_on),
        col(FollowUpVisitTask.population),
    ).where(area_scope(FollowUpVisitTask, scope), col(FollowUpVisitTask.period).between(from_period, to_period))
    owed_tasks = union_all(monitored, followed).subquery()
    status = owed_tasks.c.status
    owed = status != VisitTaskStatus.cancelled
    visited, overdue, still_open = (
        status == VisitTaskStatus.done,
        status == VisitTaskStatus.overdue,
        status == VisitTaskStatus.open,
    )
    if as_of is not None:
        # `as_of` is a day's end (midnight, Beijing time): visited on a day before it.
        visited = owed & func.coalesce(owed_tasks.c.first_visited_on < local_date(as_of), False)
        overdue = owed & ~visited & (owed_tasks.c.due_at < as_of)
        still_open = owed & ~visited & (owed_tasks.c.due_at >= as_of)
    query = (
        select(
            owed_tasks.c.village_code,
            col(Area.name).label("village_name"),
            owed_tasks.c.period,
            owed_tasks.c.population,
            func.count().filter(owed).label("owed"),
            func.count().filter(visited).label("visited"),
            func.count().filter(overdue).label("overdue"),
            func.count().filter(still_open).label("open"),
            func.coalesce(func.sum(owed_tasks.c.visit_count), 0).label("visits"),
        )
        .join(Area, col(Area.code) == owed_tasks.c.village_code)
        .group_by(owed_tasks.c.village_code, col(Area.name), owed_tasks.c.period, owed_tasks.c.population)
        .order_by(owed_tasks.c.village_code, owed_tasks.c.period)
    )
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for part in (await session.execute(query)).all():
        row = rows.setdefault(
            (part.village_code, part.period),
            {
                "village_code": part.village_code,
                "village_name": part.village_name,
                "period": part.period,
                "owed": 0,
                "visited": 0,
                "overdue": 0,
                "open": 0,
                "visits": 0,
                "owed_by_population": {},
            },
        )
        for field in ("owed", "visited", "overdue", "open", "visits"):
            row[field] += int(getattr(part, field))
        row["owed_by_population"][part.population] = int(part.owed)
    return VisitCoverage(
        area=scope,
        from_period=from_period,
        to_period=to_period,
        rows=[
            CoverageRow(**row, coverage=round(row["visited"] / row["owed"], 4) if row["owed"] else None)
            for row in rows.values()
        ],
    )
