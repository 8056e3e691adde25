"""Households: register, read, list — each reader only inside their own area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api.access import list_scope, require_role, visible
from services.api.deps import CurrentAccount, SessionDep
from services.api.errors import forbidden
from services.api.registry.household_change_forms import MemberChangeIn
from services.api.registry.household_changes import record_member_change
from services.api.registry.household_flags import HouseholdFlagsIn, set_household_flags
from services.api.registry.households import HouseholdIn, register_household
from services.api.registry.schemas import HouseholdDetail, HouseholdPage
from services.api.registry.service import household_detail, household_page, visible_household
from services.db.tables import Household
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


@router.post(
    "/{code}/member-changes", status_code=201, summary="登记家庭成员变动（出生、死亡、婚入婚出、迁入迁出、分户、合户）"
)
async def record_change(
    code: str, body: MemberChangeIn, account: CurrentAccount, session: SessionDep
) -> HouseholdDetail:
    """Answers the household as it is now; a split's new household is named in the change (`other_household`)."""
    require_role(account, Role.village_cadre, Role.township_approver)
    household = await record_member_change(session, code, body, account)
    await session.commit()
    return await household_detail(session, household, account)


@router.patch("/{code}/flags", summary="设置户的标识（脱贫户及脱贫年度、低保、特困、残疾）")
async def set_flags(code: str, body: HouseholdFlagsIn, account: CurrentAccount, session: SessionDep) -> HouseholdDetail:
    require_role(account, Role.township_approver, Role.county_officer)
    household = await visible(
        session, account, Household, code, "没有找到该农户，或该农户不在您的管辖区域内", for_update=True
    )
    await set_household_flags(session, household, body, account)
    await session.commit()
    return await household_detail(session, household, account)
