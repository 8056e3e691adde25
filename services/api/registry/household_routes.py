"""Households: register, read, list — each reader only inside their own area."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from services.api import pagination
from services.api.access import area_scope, can_see, list_scope, require_role, sees_personal_data
from services.api.deps import CurrentAccount, SessionDep
from services.api.errors import forbidden, not_found
from services.api.registry.households import HouseholdIn, member_view, members_of, register_household
from services.db.tables import Account, Household
from services.domain.areas import area_contains
from services.domain.personal_data import mask_phone
from services.domain.vocabulary import HOUSEHOLD_STATUS_LABELS, HouseholdStatus, Role

router = APIRouter(prefix="/api/v1/households", tags=["households 农户"])


def _household_view(household: Household, reader: Account) -> dict[str, Any]:
    show = sees_personal_data(reader, household.village_code)
    phone = household.phone if show or household.phone is None else mask_phone(household.phone)
    return {
        "code": household.code,
        "county_code": household.county_code,
        "township_code": household.township_code,
        "village_code": household.village_code,
        "head_name": household.head_name,
        "address": household.address,
        "phone": phone,
        "category": household.category,
        "status": household.status,
        "status_label": HOUSEHOLD_STATUS_LABELS[HouseholdStatus(household.status)],
        "created_at": household.created_at,
    }


@router.post("", status_code=201, summary="登记农户")
async def create_household(body: HouseholdIn, account: CurrentAccount, session: SessionDep) -> dict[str, Any]:
    require_role(account, Role.village_cadre, Role.township_approver)
    if not area_contains(account.area_code, body.village_code):
        raise forbidden("只能登记本人辖区内的农户")
    household = await register_household(session, body, account)
    return await household_detail(session, household, account)


@router.get("/{code}", summary="农户档案")
async def get_household(code: str, account: CurrentAccount, session: SessionDep) -> dict[str, Any]:
    household = await session.get(Household, code) if len(code) <= 20 else None
    if household is None or not can_see(account, household.village_code):
        raise not_found("没有找到该农户，或该农户不在您的管辖区域内")
    return await household_detail(session, household, account)


async def household_detail(session: SessionDep, household: Household, reader: Account) -> dict[str, Any]:
    show = sees_personal_data(reader, household.village_code)
    members = await members_of(session, household.code)
    return {**_household_view(household, reader), "members": [member_view(m, show) for m in members]}


@router.get("", summary="农户列表")
async def list_households(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码，默认本人辖区")] = None,
    status: HouseholdStatus | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> dict[str, Any]:
    scope = list_scope(account, area)
    query = select(Household).where(area_scope(Household, scope))
    if status is not None:
        query = query.where(Household.status == status)
    if cursor is not None:
        _, after_code = pagination.decode(cursor)
        query = query.where(Household.code > after_code)
    rows = (await session.scalars(query.order_by(Household.code).limit(limit + 1))).all()
    # Lists never show personal data whole.
    items = [{**_household_view(h, account), "phone": mask_phone(h.phone) if h.phone else None} for h in rows[:limit]]
    next_cursor = pagination.encode(rows[limit - 1].created_at, rows[limit - 1].code) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}
