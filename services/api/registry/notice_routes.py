"""The village notice (村级公示) of one village, as data and as a printable page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.api.access import CASEWORK_ROLES, require_role
from services.api.deps import CurrentAccount, SessionDep
from services.api.errors import ERROR_RESPONSES, ERROR_SCHEMA
from services.api.registry.schemas import VillageNotice
from services.api.registry.service import township_name, visible_village
from services.api.registry.village_notice import notice_of, notice_page, today_in_china
from services.domain.form_fields import FormDate

router = APIRouter(prefix="/api/v1/villages", tags=["notices 公示"])
NoticeDay = Annotated[FormDate | None, Query(description="公示日期，默认今天")]


@router.get("/{village_code}/notice", summary="村级公示（数据）")
async def village_notice(
    village_code: str, account: CurrentAccount, session: SessionDep, on: NoticeDay = None
) -> VillageNotice:
    require_role(account, *CASEWORK_ROLES)
    return await notice_of(session, await visible_village(session, account, village_code), on or today_in_china())


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
    require_role(account, *CASEWORK_ROLES)
    notice = await notice_of(session, await visible_village(session, account, village_code), on or today_in_china())
    return HTMLResponse(notice_page(notice, await township_name(session, village_code)))
