"""Monitoring periods (监测帮扶): lists and inboxes, detail, timeline, measure proposals,
visit tasks and visit coverage — each reader only inside their own area."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import and_, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import pagination
from services.api.access import area_scope, can_see, list_scope, sees_personal_data
from services.api.deps import CurrentAccount, SessionDep
from services.api.errors import invalid, not_found
from services.api.monitoring.views import monitoring_summary, monitoring_view, visit_task_view
from services.api.timelines import timeline
from services.db.tables import Account, Area, Household, MonitoringRecord, VisitTaskRecord
from services.domain.form_fields import FormMonth
from services.domain.monitoring.state import MonitoringState
from services.domain.monitoring.support_measures import propose_measures
from services.domain.monitoring.vocabulary import MEASURE_KIND_LABELS, TaskKind, VisitTaskStatus
from services.domain.months import local_date, next_period, period_of
from services.domain.vocabulary import HouseholdStatus

router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring 监测帮扶"])

Period = Annotated[FormMonth, Query(description="月份，如 2026-11")]


async def visible_period(session: AsyncSession, account: Account, monitoring_id: str) -> MonitoringRecord:
    record = await session.get(MonitoringRecord, monitoring_id) if len(monitoring_id) <= 40 else None
    if record is None or not can_see(account, record.village_code):
        raise not_found("没有找到该监测记录，或该户不在您的管辖区域内")
    return record


@router.get("", summary="监测对象列表（可按待办筛选）")
async def list_periods(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码（县、镇或村），默认本人辖区")] = None,
    status: HouseholdStatus | None = None,
    household_code: str | None = Query(default=None, max_length=20),
    task: TaskKind | None = Query(default=None, description="只看有该待办的"),
    mine: bool = Query(default=False, description="只看等我办理的（我的角色，或指定给我的）"),
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> dict[str, Any]:
    query = (
        select(MonitoringRecord, Household.head_name)
        .join(Household, Household.code == MonitoringRecord.household_code)
        .where(area_scope(MonitoringRecord, list_scope(account, area)))
    )
    if status is not None:
        query = query.where(MonitoringRecord.status == status)
    if household_code is not None:
        query = query.where(MonitoringRecord.household_code == household_code)
    wanted: dict[str, Any] = {"kind": task} if task else {}
    if mine:
        query = query.where(
            or_(
                MonitoringRecord.tasks.contains([{**wanted, "role": account.role, "assignee": None}]),
                MonitoringRecord.tasks.contains([{**wanted, "assignee": account.username}]),
            )
        )
    elif wanted:
        query = query.where(MonitoringRecord.tasks.contains([wanted]))
    if cursor is not None:
        since, monitoring_id = pagination.decode(cursor)
        query = query.where(
            or_(
                MonitoringRecord.since < since,
                and_(MonitoringRecord.since == since, MonitoringRecord.monitoring_id < monitoring_id),
            )
        )
    query = query.order_by(MonitoringRecord.since.desc(), MonitoringRecord.monitoring_id.desc()).limit(limit + 1)
    rows = (await session.execute(query)).all()
    last = rows[limit - 1][0] if len(rows) > limit else None
    return {
        "items": [monitoring_summary(record, head_name) for record, head_name in rows[:limit]],
        "next_cursor": pagination.encode(last.since, last.monitoring_id) if last else None,
    }


@router.get("/visit-tasks", summary="走访任务（逾期未走访的已上报镇审核）")
async def list_visit_tasks(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码，默认本人辖区")] = None,
    period: Period | None = None,
    status: VisitTaskStatus | None = None,
    household_code: str | None = Query(default=None, max_length=20),
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> dict[str, Any]:
    query = (
        select(VisitTaskRecord, Household.head_name)
        .join(Household, Household.code == VisitTaskRecord.household_code)
        .where(area_scope(VisitTaskRecord, list_scope(account, area)))
    )
    if period is not None:
        query = query.where(VisitTaskRecord.period == period)
    if status is not None:
        query = query.where(VisitTaskRecord.status == status)
    if household_code is not None:
        query = query.where(VisitTaskRecord.household_code == household_code)
    if cursor is not None:
        due_at, key = pagination.decode(cursor)
        monitoring_id, _, task_period = key.partition("|")
        query = query.where(
            or_(
                VisitTaskRecord.due_at < due_at,
                and_(VisitTaskRecord.due_at == due_at, VisitTaskRecord.monitoring_id < monitoring_id),
                and_(
                    VisitTaskRecord.due_at == due_at,
                    VisitTaskRecord.monitoring_id == monitoring_id,
                    VisitTaskRecord.period < task_period,
                ),
            )
        )
    query = query.order_by(
        VisitTaskRecord.due_at.desc(), VisitTaskRecord.monitoring_id.desc(), VisitTaskRecord.period.desc()
    ).limit(limit + 1)
    rows = (await session.execute(query)).all()
    last = rows[limit - 1][0] if len(rows) > limit else None
    return {
        "items": [visit_task_view(task, head_name) for task, head_name in rows[:limit]],
        "next_cursor": pagination.encode(last.due_at, f"{last.monitoring_id}|{last.period}") if last else None,
    }


@router.get("/visit-coverage", summary="走访覆盖率（按村、按月）")
async def visit_coverage(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码，默认本人辖区")] = None,
    from_period: Period | None = None,
    to_period: Period | None = None,
) -> dict[str, Any]:
    """For every village and month: visits owed (monitored households), households visited,
    overdue (month ended without a visit), still open, and the coverage visited ÷ owed.
    Default: the last six months, this one included."""
    scope = list_scope(account, area)
    to_period = to_period or period_of(local_date(datetime.now(UTC)), 1)
    from_period = from_period or next_period(to_period, -5)
    if from_period > to_period:
        raise invalid("from_period", "起始月份不能晚于结束月份")
    owed = VisitTaskRecord.status != VisitTaskStatus.cancelled
    counts = [
        func.count().filter(owed).label("owed"),
        func.count().filter(VisitTaskRecord.status == VisitTaskStatus.done).label("visited"),
        func.count().filter(VisitTaskRecord.status == VisitTaskStatus.overdue).label("overdue"),
        func.count().filter(VisitTaskRecord.status == VisitTaskStatus.open).label("open"),
        func.coalesce(func.sum(VisitTaskRecord.visit_count), 0).label("visits"),
    ]
    query = (
        select(VisitTaskRecord.village_code, Area.name, VisitTaskRecord.period, *counts)
        .join(Area, Area.code == VisitTaskRecord.village_code)
        .where(area_scope(VisitTaskRecord, scope), VisitTaskRecord.period.between(from_period, to_period))
        .group_by(VisitTaskRecord.village_code, Area.name, VisitTaskRecord.period)
        .order_by(VisitTaskRecord.village_code, VisitTaskRecord.period)
    )
    rows = [dict(row._mapping) for row in (await session.execute(query)).all()]
    for row in rows:
        row["village_name"] = row.pop("name")
        row["coverage"] = round(row["visited"] / row["owed"], 4) if row["owed"] else None
    return {"area": scope, "from_period": from_period, "to_period": to_period, "rows": rows}


@router.get("/{monitoring_id}", response_model=None, summary="监测详情（帮扶计划、走访、风险消除）")
async def get_period(monitoring_id: str, account: CurrentAccount, session: SessionDep) -> dict[str, Any]:
    record = await visible_period(session, account, monitoring_id)
    return monitoring_view(record.state, account)


@router.get("/{monitoring_id}/timeline", summary="办理记录（每一次操作）")
async def get_timeline(monitoring_id: str, account: CurrentAccount, session: SessionDep) -> dict[str, Any]:
    record = await visible_period(session, account, monitoring_id)
    show_all = sees_personal_data(account, record.village_code)
    return {"monitoring_id": monitoring_id, "entries": await timeline(session, monitoring_id, show_all)}


@router.get("/{monitoring_id}/proposed-measures", summary="按风险类型建议的帮扶措施（供制定计划参考）")
async def get_proposed_measures(monitoring_id: str, account: CurrentAccount, session: SessionDep) -> dict[str, Any]:
    """The service proposes; the support person decides what goes into the plan."""
    state = MonitoringState.model_validate((await visible_period(session, account, monitoring_id)).state)
    measures = propose_measures(state.risk_types, state.labour_capacity, local_date(datetime.now(UTC)))
    return {"measures": [{**m.model_dump(mode="json"), "kind_label": MEASURE_KIND_LABELS[m.kind]} for m in measures]}
