"""Reading the registry: the household a reader may see, its detail and file, the household list."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import pagination
from services.api.access import area_scope, sees_personal_data, visible
from services.api.errors import not_found
from services.api.evidence.service import evidence_view, household_evidence
from services.api.identification.views import case_view
from services.api.monitoring.schemas import MonitoringWithVisits
from services.api.monitoring.views import monitoring_view, visit_view
from services.api.registry.schemas import HouseholdDetail, HouseholdFile, HouseholdPage
from services.api.registry.views import change_view, household_view, member_view
from services.db.tables import (
    Account,
    Area,
    CaseRecord,
    Household,
    HouseholdChange,
    Member,
    MonitoringRecord,
    VisitRecord,
)
from services.domain.areas import AreaLevel, area_level, is_area_code, township_of
from services.domain.vocabulary import HouseholdStatus

_NO_VILLAGE = "没有找到该村，或不在您的管辖区域内"


async def visible_household(session: AsyncSession, reader: Account, code: str) -> Household:
    return await visible(session, reader, Household, code, "没有找到该农户，或该农户不在您的管辖区域内")


async def visible_village(session: AsyncSession, reader: Account, code: str) -> Area:
    """A village inside the reader's area (404 for anything else)."""
    if not (is_area_code(code) and area_level(code) == AreaLevel.village):
        raise not_found(_NO_VILLAGE)
    return await visible(session, reader, Area, code, _NO_VILLAGE, area_field="code")


async def township_name(session: AsyncSession, village_code: str) -> str:
    township = await session.get(Area, township_of(village_code))
    return township.name if township else ""


async def areas_under(session: AsyncSession, parent: str | None, without_parent: Literal["every", "top"]) -> list[Area]:
    """The areas directly under `parent`; without one, `every` area or only the `top` level."""
    query = select(Area).order_by(col(Area.code))
    if parent:
        query = query.where(col(Area.parent_code) == parent)
    elif without_parent == "top":
        query = query.where(col(Area.parent_code).is_(None))
    return list((await session.scalars(query)).all())


async def members_of(session: AsyncSession, code: str) -> list[Member]:
    """Every member the household has had, current ones (`ended_on` None) and ended ones, in the order they came."""
    return list(
        (await session.scalars(select(Member).where(col(Member.household_code) == code).order_by(col(Member.id)))).all()
    )


async def changes_of(session: AsyncSession, code: str) -> list[HouseholdChange]:
    query = select(HouseholdChange).where(col(HouseholdChange.household_code) == code)
    return list((await session.scalars(query.order_by(col(HouseholdChange.id)))).all())


async def household_detail(session: AsyncSession, household: Household, reader: Account) -> HouseholdDetail:
    """The household as it is now (current members) with the members it had and every change."""
    show = sees_personal_data(reader, household.village_code)
    members = await members_of(session, household.code)
    changes = await changes_of(session, household.code)
    kinds = {c.id: c.kind for c in changes if c.id is not None}
    return HouseholdDetail(
        **household_view(household, reader).model_dump(),
        members=[member_view(m, show, kinds) for m in members if m.ended_on is None],
        former_members=[member_view(m, show, kinds) for m in members if m.ended_on is not None],
        changes=[change_view(c) for c in changes],
    )


async def household_page(
    session: AsyncSession, scope: str, status: HouseholdStatus | None, limit: int, cursor: str | None, reader: Account
) -> HouseholdPage:
    """By household code."""
    query = select(Household).where(area_scope(Household, scope))
    if status is not None:
        query = query.where(col(Household.status) == status)
    if cursor is not None:
        _, after_code = pagination.decode(cursor)
        query = query.where(col(Household.code) > after_code)
    rows = (await session.scalars(query.order_by(col(Household.code)).limit(limit + 1))).all()
    last = rows[limit - 1] if len(rows) > limit else None
    return HouseholdPage(
        items=[household_view(h, reader, in_list=True) for h in rows[:limit]],
        next_cursor=pagination.encode(last.created_at, last.code) if last and last.created_at else None,
    )


async def household_file(session: AsyncSession, household: Household, reader: Account) -> HouseholdFile:
    code = household.code
    cases = (
        await session.scalars(
            select(CaseRecord).where(col(CaseRecord.household_code) == code).order_by(col(CaseRecord.opened_at))
        )
    ).all()
    periods = (
        await session.scalars(
            select(MonitoringRecord)
            .where(col(MonitoringRecord.household_code) == code)
            .order_by(col(MonitoringRecord.since))
        )
    ).all()
    visits = (
        await session.scalars(
            select(VisitRecord)
            .where(col(VisitRecord.household_code) == code)
            .order_by(col(VisitRecord.visited_on), col(VisitRecord.visit_no))
        )
    ).all()
    return HouseholdFile.model_validate(
        {
            "household": await household_detail(session, household, reader),
            "cases": [case_view(c.state, reader) for c in cases],
            "monitoring_periods": [
                MonitoringWithVisits.model_validate(
                    {
                        **monitoring_view(p.state, reader),
                        "visits": [visit_view(v, reader) for v in visits if v.monitoring_id == p.monitoring_id],
                    }
                )
                for p in periods
            ],
            "evidence": [
                evidence_view(e) for e in await household_evidence(session, reader, code, household.village_code)
            ],
        }
    )
