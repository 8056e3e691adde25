"""The household file (一户一档): the household with its whole history in one answer —
identification cases, monitoring periods with their support people, plans, measures,
visit tasks, visits and exits — masked for readers who do not need personal data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlmodel import select

from services.api.access import can_see
from services.api.deps import CurrentAccount, SessionDep
from services.api.errors import not_found
from services.api.identification.views import case_view
from services.api.monitoring.views import monitoring_view, visit_view
from services.api.registry.household_routes import household_detail
from services.db.tables import CaseRecord, Household, MonitoringRecord, VisitRecord

router = APIRouter(prefix="/api/v1/households", tags=["households 农户"])


@router.get("/{code}/file", summary="一户一档（识别案件、帮扶计划与措施、走访、风险消除）")
async def household_file(code: str, account: CurrentAccount, session: SessionDep) -> dict[str, Any]:
    household = await session.get(Household, code) if len(code) <= 20 else None
    if household is None or not can_see(account, household.village_code):
        raise not_found("没有找到该农户，或该农户不在您的管辖区域内")
    cases = (
        await session.exec(select(CaseRecord).where(CaseRecord.household_code == code).order_by(CaseRecord.opened_at))
    ).all()
    periods = (
        await session.exec(
            select(MonitoringRecord).where(MonitoringRecord.household_code == code).order_by(MonitoringRecord.since)
        )
    ).all()
    visits = (
        await session.exec(
            select(VisitRecord)
            .where(VisitRecord.household_code == code)
            .order_by(VisitRecord.visited_on, VisitRecord.visit_no)
        )
    ).all()
    return {
        "household": await household_detail(session, household, account),
        "cases": [case_view(c.state, account) for c in cases],
        "monitoring_periods": [
            {
                **monitoring_view(p.state, account),
                "visits": [visit_view(v, account) for v in visits if v.monitoring_id == p.monitoring_id],
            }
            for p in periods
        ],
    }
