"""Making an account admin: at once, or, where the county requires a second admin, as a request
that waits until another admin (never the one who asked) approves it. Every step is audited
(`request_admin_grant`, `grant_admin`, `refuse_admin_grant`). Nothing here commits: the route does."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.admin_safety.county_settings import second_admin_required
from services.api.admin_safety.schemas import AdminGrantIn, AdminGrantView, GrantApproval, GrantRefusal
from services.api.errors import conflict, forbidden
from services.api.people.accounts import AccountUpdate
from services.api.people.service import change_account, managed_account
from services.db.admin_safety import AdminGrant
from services.db.audit import append_audit
from services.db.tables import Account
from services.domain.areas import county_of
from services.domain.vocabulary import Role

_STATUS_LABELS = {"pending": "待另一名管理员批准", "granted": "已授予管理员权限", "refused": "未批准"}


def grant_view(grant: AdminGrant) -> AdminGrantView:
    assert grant.id is not None
    return AdminGrantView(
        id=grant.id,
        username=grant.username,
        status=grant.status,
        status_label=_STATUS_LABELS[grant.status],
        reason=grant.reason,
        requested_by=grant.requested_by,
        requested_at=grant.requested_at,
        decided_by=grant.decided_by,
        decided_at=grant.decided_at,
        decision_note=grant.decision_note,
    )


async def request_admin_grant(session: AsyncSession, admin: Account, body: AdminGrantIn) -> AdminGrant:
    target = await _grantable(session, admin, body.username)
    county = county_of(admin.area_code)
    now = datetime.now(UTC)
    grant = AdminGrant(
        county_code=county,
        username=target.username,
        status="pending",
        reason=body.reason,
        requested_by=admin.username,
        requested_at=now,
    )
    if not await second_admin_required(session, county):
        grant.status, grant.decided_by, grant.decided_at = "granted", admin.username, now
    session.add(grant)
    try:
        await session.flush()
    except IntegrityError:  # another admin asked for the same account at the same moment
        raise _already_pending() from None
    await append_audit(
        session, admin, "request_admin_grant", "account", target.username, {"grant_id": grant.id, "reason": body.reason}
    )
    if grant.status == "granted":
        await _make_admin(session, admin, target, grant)
    return grant


async def approve_admin_grant(session: AsyncSession, admin: Account, username: str, body: GrantApproval) -> AdminGrant:
    target = await managed_account(session, admin, username, for_update=True)
    grant = await _pending(session, target.username)
    if grant.requested_by == admin.username:
        raise forbidden("不能批准自己提出的授权申请，须由另一名管理员批准")
    if target.disabled:
        raise conflict("account_disabled", "该账号已停用，不能授予管理员权限；请先不予批准该申请")
    grant.status, grant.decided_by, grant.decided_at = "granted", admin.username, datetime.now(UTC)
    grant.decision_note = body.note
    session.add(grant)
    await _make_admin(session, admin, target, grant)
    return grant


async def refuse_admin_grant(session: AsyncSession, admin: Account, username: str, body: GrantRefusal) -> AdminGrant:
    """Another admin refuses it, or the one who asked withdraws it."""
    target = await managed_account(session, admin, username, for_update=True)
    grant = await _pending(session, target.username)
    grant.status, grant.decided_by, grant.decided_at = "refused", admin.username, datetime.now(UTC)
    grant.decision_note = body.note
    session.add(grant)
    await session.flush()
    await append_audit(
        session, admin, "refuse_admin_grant", "account", username, {"grant_id": grant.id, "note": body.note}
    )
    return grant


async def admin_grants(session: AsyncSession, admin: Account, status: str | None, limit: int) -> list[AdminGrant]:
    """The county's requests, newest first."""
    query = select(AdminGrant).where(col(AdminGrant.county_code) == county_of(admin.area_code))
    if status is not None:
        query = query.where(col(AdminGrant.status) == status)
    return list((await session.exec(query.order_by(col(AdminGrant.id).desc()).limit(limit))).all())


async def _grantable(session: AsyncSession, admin: Account, username: str) -> Account:
    target = await managed_account(session, admin, username, for_update=True)
    if target.role == Role.admin:
        raise conflict("already_admin", "该账号已是系统管理员")
    if target.disabled:
        raise conflict("account_disabled", "该账号已停用，不能授予管理员权限")
    pending = select(AdminGrant.id).where(col(AdminGrant.username) == username, col(AdminGrant.status) == "pending")
    if (await session.exec(pending)).first() is not None:
        raise _already_pending()
    return target


async def _pending(session: AsyncSession, username: str) -> AdminGrant:
    query = select(AdminGrant).where(col(AdminGrant.username) == username, col(AdminGrant.status) == "pending")
    grant = (await session.exec(query.with_for_update())).first()
    if grant is None:
        raise conflict("no_pending_grant", "该账号没有待批准的管理员授权申请")
    return grant


def _already_pending() -> Exception:
    return conflict("grant_pending", "该账号已有待批准的管理员授权申请，请等待另一名管理员处理")


async def _make_admin(session: AsyncSession, admin: Account, target: Account, grant: AdminGrant) -> None:
    """Admins work at county level: the account moves to the county (freeing the tasks it held)."""
    await session.flush()
    as_admin = AccountUpdate(role=Role.admin, area_code=grant.county_code)
    await change_account(session, admin, target.username, as_admin, grant=grant)
