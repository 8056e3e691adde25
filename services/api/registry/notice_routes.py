"""The village notice (村级公示) of one village, as data and as a printable page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.api.access import CASEWORK_ROLES, require_role, require_visible
from services.api.deps import CurrentAccount, SessionDep
from services.api.errors import ERROR_RESPONSES, ERROR_SCHEMA, not_found
from services.api.registry.schemas import VillageNotice
from services.api.registry.village_notice import notice_of, notice_page, today_in_china
from services.db.tables import Account, Area
from services.domain.areas import AreaLevel, area_level, is_area_code, township_of
from services.domain.form_fields import FormDate

router = APIRouter(prefix="/api/v1/villages", tags=["notices 公示"])
_NOT_FOUND = "没有找到该村，或不在您的管辖区域内"
NoticeDay = Annotated[FormDate | None, Query(description="公示日期，默认今天")]


async def _village(session: SessionDep, account: Account, code: str) -> Area:
    require_role(account, *CASEWORK_ROLES)
    village = await session.get(Area, code) if is_area_code(code) and area_level(code) == AreaLevel.village else None
    if village is None:
        raise not_found(_NOT_FOUND)
    require_visible(account, code, _NOT_FOUND)
    return village


@router.get("/{village_code}/notice", summary="村级公示（数据）")
async def village_notice(
    village_code: str, account: CurrentAccount, session: SessionDep, on: NoticeDay = None
) -> VillageNotice:
    return await notice_of(session, await _village(session, account, village_code), on or today_in_china())


@router.get(
    "/{village_code}/notice.html",
    response_class=HTMLResponse,
    # A refusal is JSON, like everywhere else, though the page is HTML.
    responses={
        422: {
            "description": ERROR_RESPONSES[422]["description"],
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        }
    },
    summary="村级公示（可打印页面）",
)
async def village_notice_page(
    village_code: str, account: CurrentAccount, session: SessionDep, on: NoticeDay = None
) -> HTMLResponse:
    village = await _village(session, account, village_code)
    notice = await notice_of(session, village, on or today_in_china())
    township = await session.get(Area, township_of(village_code))
    return HTMLResponse(notice_page(notice, township.name if township else ""))
