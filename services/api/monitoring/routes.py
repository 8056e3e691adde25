"""Monitoring periods (监测帮扶): lists and inboxes, detail, timeline, measure proposals,
visit tasks and visit coverage — each reader only inside their own area."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.api.access import list_scope, sees_personal_data
from services.api.deps import CurrentAccount, SessionDep
from services.api.errors import invalid
from services.api.monitoring import service
from services.api.monitoring.schemas import (
    MonitoringPage,
    MonitoringTimeline,
    MonitoringView,
    ProposedMeasures,
    ProposedMeasureView,
    VisitCoverage,
    VisitTaskPage,
)
from services.api.monitoring.service import (
    PeriodFilter,
    VisitTaskFilter,
    period_page,
    visible_period,
    visit_task_page,
)
from services.api.monitoring.views import monitoring_view
from services.api.timelines import timeline
from services.domain.form_fields import FormMonth
from services.domain.monitoring.state import MonitoringState
from services.domain.monitoring.support_measures import propose_measures
from services.domain.monitoring.vocabulary import MEASURE_KIND_LABELS, TaskKind, VisitTaskStatus
from services.domain.months import local_date, next_period, period_of
from services.domain.vocabulary import HouseholdStatus

router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring 监测帮扶"])

Period = Annotated[FormMonth, Query(description="月份，如 2026-11")]


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
) -> MonitoringPage:
    wanted = PeriodFilter(list_scope(account, area), status, household_code, task, account if mine else None)
    return await period_page(session, wanted, limit, cursor)


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
) -> VisitTaskPage:
    wanted = VisitTaskFilter(list_scope(account, area), period, status, household_code)
    return await visit_task_page(session, wanted, limit, cursor)


@router.get("/visit-coverage", summary="走访覆盖率（按村、按月）")
async def visit_coverage(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码，默认本人辖区")] = None,
    from_period: Period | None = None,
    to_period: Period | None = None,
) -> VisitCoverage:
    """For every village and month: visits owed (monitored households), households visited,
    overdue (month ended without a visit), still open, and the coverage visited ÷ owed.
    Default: the last six months, this one included."""
    scope = list_scope(account, area)
    to_period = to_period or period_of(local_date(datetime.now(UTC)), 1)
    from_period = from_period or next_period(to_period, -5)
    if from_period > to_period:
        raise invalid("from_period", "起始月份不能晚于结束月份")
    return await service.visit_coverage(session, scope, from_period, to_period)


@router.get("/{monitoring_id}", response_model=MonitoringView, summary="监测详情（帮扶计划、走访、风险消除）")
async def get_period(monitoring_id: str, account: CurrentAccount, session: SessionDep) -> dict[str, Any]:
    record = await visible_period(session, account, monitoring_id)
    return monitoring_view(record.state, account)


@router.get("/{monitoring_id}/timeline", summary="办理记录（每一次操作）")
async def get_timeline(monitoring_id: str, account: CurrentAccount, session: SessionDep) -> MonitoringTimeline:
    record = await visible_period(session, account, monitoring_id)
    show_all = sees_personal_data(account, record.village_code)
    return MonitoringTimeline(monitoring_id=monitoring_id, entries=await timeline(session, monitoring_id, show_all))


@router.get("/{monitoring_id}/proposed-measures", summary="按风险类型建议的帮扶措施（供制定计划参考）")
async def get_proposed_measures(monitoring_id: str, account: CurrentAccount, session: SessionDep) -> ProposedMeasures:
    """The service proposes; the support person decides what goes into the plan."""
    state = MonitoringState.model_validate((await visible_period(session, account, monitoring_id)).state)
    measures = propose_measures(state.risk_types, state.labour_capacity, local_date(datetime.now(UTC)))
    return ProposedMeasures(
        measures=[ProposedMeasureView(**m.model_dump(), kind_label=MEASURE_KIND_LABELS[m.kind]) for m in measures]
    )
