"""统计报表: the statistics of the reader's area as a page with bar charts (inline SVG drawn by the
template), the kept weekly and monthly reports with their downloads, and the rosters' downloads,
through the API's own functions (the same area and role rules, behind the session cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import col, select

from services.api.access import list_scope
from services.api.deps import Resources, SessionDep
from services.api.reports.kept_routes import download_report, list_reports, print_report
from services.api.reports.roster_routes import download_roster
from services.api.reports.rosters import ROSTER_TITLES, RosterKind
from services.api.reports.statistics_routes import get_statistics
from services.db.tables import Account, Area
from services.domain.form_fields import FormDate
from services.domain.vocabulary import Role
from services.web.deps import PageAccount
from services.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
REPORT_READERS = (Role.township_approver, Role.county_officer, Role.admin)
AreaCode = Annotated[str | None, Query(max_length=12)]


@router.get("/statistics")
async def statistics_page(
    request: Request,
    account: PageAccount,
    session: SessionDep,
    area: AreaCode = None,
    from_date: Annotated[FormDate | None, Query()] = None,
    as_of: Annotated[FormDate | None, Query()] = None,
) -> Response:
    figures = await get_statistics(account, session, area or None, from_date, as_of)
    kept = await list_reports(account, session, figures.area, None, 20) if account.role in REPORT_READERS else None
    context = {
        "s": figures,
        "areas": await _areas_to_choose(session, account),
        "kept": kept.items if kept else None,
        "rosters": list(ROSTER_TITLES.items()),
    }
    return render(request, "statistics.html", context, account)


async def _areas_to_choose(session: SessionDep, account: Account) -> list[tuple[str, str]]:
    """The reader's own area and the areas one level down (a county's townships, a township's villages)."""
    own = await session.get(Area, account.area_code)
    below = (
        await session.exec(select(Area).where(col(Area.parent_code) == account.area_code).order_by(col(Area.code)))
    ).all()
    return [(a.code, a.name) for a in ([own] if own else []) + list(below)]


@router.get("/reports/kept/{report_key}.xlsx")
async def kept_report_workbook(report_key: str, account: PageAccount, session: SessionDep) -> Response:
    return await download_report(report_key, account, session)


@router.get("/reports/kept/{report_key}/page")
async def kept_report_page(report_key: str, account: PageAccount, session: SessionDep) -> Response:
    return await print_report(report_key, account, session)


@router.get("/reports/rosters/{kind}.xlsx")
async def roster_workbook(
    kind: RosterKind, account: PageAccount, resources: Resources, area: AreaCode = None
) -> Response:
    list_scope(account, area)  # another area: 403 before the download starts
    return await download_roster(kind, account, resources, area or None)
