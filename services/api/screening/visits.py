"""Screening visits (排查走访): grid workers see their grid's households (the village they work in)
with the last visit this year, and record visits; township and county see who nobody visited."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import area_scope
from services.api.screening.schemas import GridHousehold, GridHouseholdPage, VisitIn, VisitView
from services.db.screening import ScreeningVisit
from services.db.tables import Account, Household


async def record_visit(session: AsyncSession, household: Household, body: VisitIn, account: Account) -> VisitView:
    visit = ScreeningVisit(
        household_code=household.code,
        village_code=household.village_code,
        visited_on=body.visited_on,
        findings=body.findings,
        risk_found=body.risk_found,
        recorded_by=account.username,
    )
    session.add(visit)
    await session.flush()
    assert visit.id is not None
    return VisitView(
        visit_id=visit.id,
        household_code=visit.household_code,
        visited_on=visit.visited_on,
        findings=visit.findings,
        risk_found=visit.risk_found,
        recorded_by=visit.recorded_by,
    )


async def household_page(
    session: AsyncSession, area: str, year: int, unvisited_only: bool, after: str | None, limit: int
) -> GridHouseholdPage:
    """The area's households (not merged away) with their last screening visit in `year`, by code."""
    last_visit = (
        select(col(ScreeningVisit.household_code), func.max(col(ScreeningVisit.visited_on)).label("last_on"))
        .where(col(ScreeningVisit.visited_on).between(date(year, 1, 1), date(year, 12, 31)))
        .group_by(col(ScreeningVisit.household_code))
        .subquery()
    )
    query = (
        select(Household, last_visit.c.last_on)
        .outerjoin(last_visit, and_(last_visit.c.household_code == col(Household.code)))
        .where(area_scope(Household, area), col(Household.merged_into).is_(None))
    )
    if unvisited_only:
        query = query.where(last_visit.c.last_on.is_(None))
    if after is not None:
        query = query.where(col(Household.code) > after)
    rows = (await session.execute(query.order_by(col(Household.code)).limit(limit + 1))).all()
    items = [
        GridHousehold(
            household_code=h.code,
            village_code=h.village_code,
            head_name=h.head_name,
            address=h.address,
            last_visited_on=last_on,
        )
        for h, last_on in rows[:limit]
    ]
    return GridHouseholdPage(items=items, next_after=items[-1].household_code if len(rows) > limit else None)
