"""Households: register, read, list — each reader only inside their own area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api.access import list_scope, require_role
from services.api.deps import CurrentAccount, SessionDep
from services.api.errors import forbidden
from services.api.registry.households import HouseholdIn, register_household
from services.api.registry.schemas import HouseholdDetail, HouseholdPage
from services.api.registry.service import household_detail, household_page, visible_household
from services.domain.areas import area_contains
from services.domain.vocabulary import HouseholdStatus, Role

router = APIRouter(prefix="/api/v1/households", tags=["households 农户"])


@router.post("", status_code=201, summary="登记农户")
async def create_household(body: HouseholdIn, account: CurrentAccount, session: SessionDep) -> HouseholdDetail:
    require_role(account, Role.village_cadre, Role.township_approver)
    if not area_contains(account.area_code, body.village_code):
        raise forbidden("只能登记本人辖区内的农户")
    household = await register_household(session, body, account)
    await session.commit()
    return await household_detail(session, household, account)


@router.get("/{code}", summary="农户档案")
async def get_household(code: str, account: CurrentAccount, session: SessionDep) -> HouseholdDetail:
    return await household_detail(session, await visible_household(session, account, code), account)


@router.get("", summary="农户列表")
async def list_households(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码，默认本人辖区")] = None,
    status: HouseholdStatus | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> HouseholdPage:
    return await household_page(session, list_scope(account, area), status, limit, cursor, account)
