"""Documents: the household file as a PDF with its QR code (一户一档、一户一码), the QR code on
its own, and the village's printed result announcement and exit notice. Each is read inside
the reader's area only (outside it: 404), like the data it is made from."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from services.api.access import CASEWORK_ROLES, require_role
from services.api.deps import CurrentAccount, Resources, SessionDep
from services.api.documents.household_pdf import household_file_pdf
from services.api.documents.printed_page import printed_page
from services.api.documents.schemas import ExitNotice, ResultAnnouncement
from services.api.documents.village_lists import exit_notice, result_announcement
from services.api.errors import ERROR_RESPONSES, ERROR_SCHEMA
from services.api.registry import service
from services.api.registry.service import township_name, visible_household, visible_village
from services.api.registry.village_notice import today_in_china as county_today
from services.db.tables import Area
from services.domain.documents.household_qr import household_file_link, qr_png, qr_svg
from services.domain.form_fields import FormDate

households = APIRouter(prefix="/api/v1/households", tags=["documents 一户一档"])
villages = APIRouter(prefix="/api/v1/villages", tags=["notices 公示"])
ListDay = Annotated[FormDate | None, Query(description="公示或公告日期，默认今天")]


# A refusal is JSON, like everywhere else, though the answer is a page or a file.
_JSON_REFUSAL: dict[int | str, dict[str, Any]] = {
    422: {"description": ERROR_RESPONSES[422]["description"], "content": {"application/json": {"schema": ERROR_SCHEMA}}}
}


def _binary(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}}, "description": "文件"},
        **_JSON_REFUSAL,
    }


@households.get(
    "/{code}/file.pdf",
    response_class=Response,
    responses=_binary("application/pdf"),
    summary="一户一档（PDF，含一户一码）",
)
async def household_file_as_pdf(
    code: str, account: CurrentAccount, session: SessionDep, resources: Resources
) -> Response:
    household = await visible_household(session, account, code)
    file = await service.household_file(session, household, account)
    village = await session.get(Area, household.village_code)
    link = household_file_link(resources.settings.public_base_url, household.code)
    pdf = household_file_pdf(file, village.name if village else household.village_code, link, county_today())
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{household.code}.pdf"'}
    )


@households.get("/{code}/qr.png", response_class=Response, responses=_binary("image/png"), summary="一户一码（PNG）")
async def household_qr_png(code: str, account: CurrentAccount, session: SessionDep, resources: Resources) -> Response:
    household = await visible_household(session, account, code)
    return Response(
        qr_png(household_file_link(resources.settings.public_base_url, household.code)), media_type="image/png"
    )


@households.get(
    "/{code}/qr.svg", response_class=Response, responses=_binary("image/svg+xml"), summary="一户一码（SVG）"
)
async def household_qr_svg(code: str, account: CurrentAccount, session: SessionDep, resources: Resources) -> Response:
    household = await visible_household(session, account, code)
    return Response(
        qr_svg(household_file_link(resources.settings.public_base_url, household.code)), media_type="image/svg+xml"
    )


@villages.get("/{village_code}/announcement", summary="结果公告（数据）")
async def village_announcement(
    village_code: str, account: CurrentAccount, session: SessionDep, on: ListDay = None
) -> ResultAnnouncement:
    require_role(account, *CASEWORK_ROLES)
    village = await visible_village(session, account, village_code)
    return await result_announcement(session, village, await township_name(session, village.code), on or county_today())


@villages.get(
    "/{village_code}/announcement.html",
    response_class=HTMLResponse,
    responses=_JSON_REFUSAL,
    summary="结果公告（可打印页面）",
)
async def village_announcement_page(
    village_code: str, account: CurrentAccount, session: SessionDep, on: ListDay = None
) -> HTMLResponse:
    announced = await village_announcement(village_code, account, session, on)
    rows = [
        (h.head_name, announced.village_name, h.household_size or "", h.category_label or "")
        for h in announced.households
    ]
    text = (
        "经农户申报或排查发现、入户核查、民主评议和村级公示、镇审核、县级审定，"
        "以下农户认定为防止返贫监测对象，纳入监测帮扶，现予以公告。"
    )
    return HTMLResponse(
        printed_page(
            announced.title,
            text,
            ("户主姓名", "所在村", "家庭人口", "认定类别"),
            rows,
            f"{announced.township_name}人民政府",
            announced.on,
        )
    )


@villages.get("/{village_code}/exit-notice", summary="风险消除公示（数据）")
async def village_exit_notice(
    village_code: str, account: CurrentAccount, session: SessionDep, on: ListDay = None
) -> ExitNotice:
    require_role(account, *CASEWORK_ROLES)
    return await exit_notice(session, await visible_village(session, account, village_code), on or county_today())


@villages.get(
    "/{village_code}/exit-notice.html",
    response_class=HTMLResponse,
    responses=_JSON_REFUSAL,
    summary="风险消除公示（可打印页面）",
)
async def village_exit_notice_page(
    village_code: str, account: CurrentAccount, session: SessionDep, on: ListDay = None
) -> HTMLResponse:
    notice = await village_exit_notice(village_code, account, session, on)
    township = await township_name(session, village_code)
    rows = [
        (
            e.head_name,
            notice.village_name,
            e.category_label or "",
            f"{e.monitored_since:%Y年%m月%d日}",
            f"{e.notice_starts_on:%Y年%m月%d日} 至 {e.notice_ends_on:%Y年%m月%d日}",
        )
        for e in notice.households
    ]
    text = (
        "经入户核实和村民代表民主评议，以下监测对象经帮扶后风险已消除，拟标注为风险消除，现予以公示。"
        f"公示期间，如有异议，请向村民委员会或{township}人民政府反映。"
    )
    headings = ("户主姓名", "所在村", "监测对象类别", "纳入监测日期", "公示时间")
    return HTMLResponse(printed_page(notice.title, text, headings, rows, f"{notice.village_name}村民委员会", notice.on))
