"""Admin safety: the county's settings, making an account admin (with a second admin where the
county requires one), and releasing sign-in locks. Admins only, each inside their own county."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api.access import require_role
from services.api.admin_safety.county_settings import change_county_settings, county_settings
from services.api.admin_safety.grants import (
    admin_grants,
    approve_admin_grant,
    grant_view,
    refuse_admin_grant,
    request_admin_grant,
)
from services.api.admin_safety.schemas import (
    AdminGrantIn,
    AdminGrantView,
    CountySettingsIn,
    CountySettingsView,
    GrantApproval,
    GrantRefusal,
    GrantStatus,
    SignInUnlockIn,
    SignInUnlockView,
)
from services.api.admin_safety.unlocks import release_sign_in_lock
from services.api.deps import CurrentAccount, SessionDep
from services.domain.vocabulary import Role

router = APIRouter(prefix="/api/v1", tags=["admin 系统管理"])

_GRANTS_DOC = (
    "Where the county requires a second admin (`PUT /county-settings`), a request waits as `pending` "
    "until another admin approves it; otherwise it is granted at once. The account moves to the county "
    "(admins work at county level) and the tasks it held are freed. 409: already admin, disabled, or a "
    "request already pending."
)


@router.get("/county-settings", summary="本县设置（系统管理员）")
async def get_county_settings(account: CurrentAccount, session: SessionDep) -> CountySettingsView:
    return await county_settings(session, account)


@router.put("/county-settings", summary="修改本县设置（系统管理员）")
async def put_county_settings(
    body: CountySettingsIn, account: CurrentAccount, session: SessionDep
) -> CountySettingsView:
    """Audited (`change_county_settings`). A grant already pending stays pending when the
    requirement is turned off: a second admin still decides it."""
    changed = await change_county_settings(session, account, body)
    await session.commit()
    return changed


@router.get("/admin-grants", summary="管理员授权申请（系统管理员）")
async def list_admin_grants(
    account: CurrentAccount,
    session: SessionDep,
    status: GrantStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AdminGrantView]:
    require_role(account, Role.admin)
    return [grant_view(g) for g in await admin_grants(session, account, status, limit)]


@router.post("/admin-grants", status_code=201, summary="授予管理员权限（系统管理员）", description=_GRANTS_DOC)
async def post_admin_grant(body: AdminGrantIn, account: CurrentAccount, session: SessionDep) -> AdminGrantView:
    require_role(account, Role.admin)
    grant = await request_admin_grant(session, account, body)
    await session.commit()
    return grant_view(grant)


@router.post("/admin-grants/{username}/approval", summary="批准管理员授权申请（另一名系统管理员）")
async def approve_grant(
    username: str, body: GrantApproval, account: CurrentAccount, session: SessionDep
) -> AdminGrantView:
    """The account's pending request; 403 for the admin who asked it; 409 when none is pending."""
    grant = await approve_admin_grant(session, account, username, body)
    await session.commit()
    return grant_view(grant)


@router.post("/admin-grants/{username}/refusal", summary="不予批准或撤回管理员授权申请（系统管理员）")
async def refuse_grant(
    username: str, body: GrantRefusal, account: CurrentAccount, session: SessionDep
) -> AdminGrantView:
    grant = await refuse_admin_grant(session, account, username, body)
    await session.commit()
    return grant_view(grant)


@router.post("/sign-in-locks/release", summary="解除登录锁定（系统管理员）")
async def release_lock(body: SignInUnlockIn, account: CurrentAccount, session: SessionDep) -> SignInUnlockView:
    """An account of the admin's area (404 outside it) or a client address; its failure count
    starts again. Audited (`release_sign_in_lock`) even when nothing was locked."""
    released = await release_sign_in_lock(session, account, body)
    await session.commit()
    return released
