"""一户一档 (the household file) and the village notice to print, as the API serves them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from services.api.access import CASEWORK_ROLES, require_role
from services.api.deps import Resources, SessionDep
from services.api.registry.service import household_file, township_name, visible_household, visible_village
from services.api.registry.village_notice import notice_of, notice_page, today_in_china
from services.domain.documents.household_qr import household_file_link, qr_inline_svg
from services.domain.personal_data import masked_copy
from services.domain.vocabulary import CATEGORY_LABELS, Category
from services.web.deps import PageAccount
from services.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/households/{code}")
async def household_page(
    request: Request, code: str, account: PageAccount, session: SessionDep, resources: Resources
) -> Response:
    """The whole history of one household; ID numbers and phones masked (the page is read on a
    phone in company: whoever needs a whole number reads it in the case's own record)."""
    found = await household_file(session, await visible_household(session, account, code), account)
    shown = masked_copy(found.model_dump(mode="json"))
    category = found.household.category
    context = {
        "file": shown,
        "category": CATEGORY_LABELS.get(Category(category)) if category in set(Category) else category,
        "qr": qr_inline_svg(household_file_link(resources.settings.public_base_url, code)),
    }
    return render(request, "household.html", context, account)


@router.get("/villages/{village_code}/notice")
async def village_notice(request: Request, village_code: str, account: PageAccount, session: SessionDep) -> Response:
    """The notice to print and post in the village (A4): never ID numbers, phones, health or risk types."""
    require_role(account, *CASEWORK_ROLES)
    notice = await notice_of(session, await visible_village(session, account, village_code), today_in_china())
    return HTMLResponse(
        notice_page(notice, await township_name(session, village_code)), headers={"Cache-Control": "no-store"}
    )
