"""Account and audit use cases for admins and county officers. Nothing here commits: the route does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import pagination
from services.api.access import require_role, visible
from services.api.admin_safety.county_settings import allow_direct_admin_grant
from services.api.admin_safety.records import grant_facts, record_admin_grant
from services.api.errors import conflict, invalid
from services.api.people.accounts import (
    AccountIn,
    AccountUpdate,
    PasswordChange,
    account_view,
    audit_view,
    check_placement,
    release_claims_of,
)
from services.api.people.schemas import AccountPage, AuditEntryView, AuditPage
from services.api.people.security import hash_password, verify_password
from services.db.admin_safety import AdminGrant
from services.db.audit import append_audit
from services.db.tables import Account, AuditEntry
from services.domain.areas import area_prefix
from services.domain.personal_data import masked_copy
from services.domain.vocabulary import Role

_NOT_FOUND = "没有找到该账号，或不在您的管辖区域内"


async def account_page(
    session: AsyncSession, scope: str, role: Role | None, disabled: bool | None, limit: int, cursor: str | None
) -> AccountPage:
    """By username."""
    query = select(Account).where(col(Account.area_code).startswith(area_prefix(scope)))
    if role is not None:
        query = query.where(col(Account.role) == role)
    if disabled is not None:
        query = query.where(col(Account.disabled) == disabled)
    if cursor is not None:
        query = query.where(col(Account.username) > pagination.decode(cursor)[1])
    rows = (await session.exec(query.order_by(col(Account.username)).limit(limit + 1))).all()
    last = rows[limit - 1] if len(rows) > limit else None
    return AccountPage(
        items=[account_view(a) for a in rows[:limit]],
        next_cursor=pagination.encode(last.created_at, last.username) if last and last.created_at else None,
    )


async def managed_account(session: AsyncSession, admin: Account, username: str, for_update: bool = False) -> Account:
    """An account in the admin's area (404 outside it)."""
    require_role(admin, Role.admin)
    return await visible(session, admin, Account, username, _NOT_FOUND, area_field="area_code", for_update=for_update)


async def add_account(session: AsyncSession, admin: Account, body: AccountIn) -> Account:
    require_role(admin, Role.admin)
    await check_placement(session, admin, body.role, body.area_code)
    if body.role == Role.admin:
        await allow_direct_admin_grant(session, admin)
    created = Account(
        username=body.username,
        display_name=body.display_name,
        role=body.role,
        area_code=body.area_code,
        password_hash=hash_password(body.password.get_secret_value()),
        updated_by=admin.username,
    )
    session.add(created)
    try:
        await session.flush()
    except IntegrityError:
        raise conflict("username_taken", "该登录名已被使用", field="username") from None
    await append_audit(
        session,
        admin,
        "create_account",
        "account",
        created.username,
        {"username": created.username},
        before={},
        after=audit_view(created),
    )
    if body.role == Role.admin:
        await record_admin_grant(session, admin, created.username, grant_facts(None, new_account=True))
    return created


async def change_account(
    session: AsyncSession, admin: Account, username: str, body: AccountUpdate, grant: AdminGrant | None = None
) -> Account:
    """Fields left out stay as they are. Disabling, or moving the account to another role or area,
    releases the tasks it holds; disabling or a password reset ends its sign-ins at once. Making it
    admin takes an approved `grant` where the county requires a second admin."""
    target = await managed_account(session, admin, username, for_update=True)
    if target.username == admin.username and (
        body.disabled or body.role not in (None, admin.role) or body.area_code not in (None, admin.area_code)
    ):
        raise invalid("username", "不能停用自己的账号或修改自己的角色、区划")
    before = audit_view(target)
    role = body.role or Role(target.role)
    area_code = body.area_code or target.area_code
    if body.role is not None or body.area_code is not None:
        await check_placement(session, admin, role, area_code)
    moved = (role, area_code) != (target.role, target.area_code)
    made_admin = role == Role.admin and target.role != Role.admin
    if made_admin and grant is None:
        await allow_direct_admin_grant(session, admin)
    target.display_name = body.display_name or target.display_name
    target.role, target.area_code = role, area_code
    if body.disabled is not None:
        target.disabled = body.disabled
    if body.password is not None:
        target.password_hash = hash_password(body.password.get_secret_value())
        target.token_version += 1
    target.updated_by, target.updated_at = admin.username, datetime.now(UTC)
    released = await release_claims_of(session, target.username) if moved or target.disabled else []
    session.add(target)
    await session.flush()
    await append_audit(
        session,
        admin,
        "update_account",
        "account",
        target.username,
        {
            **body.model_dump(mode="json", exclude={"password"}, exclude_none=True),
            "password_reset": body.password is not None,
            "released_tasks": released,
        },
        before=before,
        after=audit_view(target),
    )
    if made_admin:
        await record_admin_grant(session, admin, target.username, grant_facts(grant, new_account=False))
    return target


@dataclass(frozen=True)
class AuditFilter:
    area_code: str  # entries of actions taken inside this area
    case_id: str | None = None
    actor: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def audit_page(session: AsyncSession, wanted: AuditFilter, limit: int, cursor: str | None) -> AuditPage:
    """Newest first; ID numbers and phones masked."""
    query = select(AuditEntry).where(col(AuditEntry.actor_area_code).startswith(area_prefix(wanted.area_code)))
    for column, value in (
        (col(AuditEntry.case_id), wanted.case_id),
        (col(AuditEntry.actor_username), wanted.actor),
        (col(AuditEntry.subject_type), wanted.subject_type),
        (col(AuditEntry.subject_id), wanted.subject_id),
        (col(AuditEntry.action), wanted.action),
    ):
        if value is not None:
            query = query.where(column == value)
    if wanted.since is not None:
        query = query.where(col(AuditEntry.at) >= wanted.since)
    if wanted.until is not None:
        query = query.where(col(AuditEntry.at) < wanted.until)
    query = pagination.newest_first(query, col(AuditEntry.at), col(AuditEntry.id), cursor, limit, numbered=True)
    rows = (await session.exec(query)).all()
    last = rows[limit - 1] if len(rows) > limit else None
    return AuditPage(
        items=[
            AuditEntryView(
                id=e.id,
                at=e.at,
                action=e.action,
                actor=e.actor_username,
                role=e.actor_role,
                area_code=e.actor_area_code,
                case_id=e.case_id,
                seq=e.seq,
                subject_type=e.subject_type,
                subject_id=e.subject_id,
                data=masked_copy(e.data),
                before=masked_copy(e.before),
                after=masked_copy(e.after),
            )
            for e in rows[:limit]
        ],
        next_cursor=pagination.encode(last.at, str(last.id)) if last else None,
    )


async def set_own_password(session: AsyncSession, account: Account, body: PasswordChange) -> None:
    """Every token of the account issued before stops working."""
    if not verify_password(body.current_password.get_secret_value(), account.password_hash):
        raise invalid("current_password", "原密码不正确")
    if body.new_password.get_secret_value() == body.current_password.get_secret_value():
        raise invalid("new_password", "新密码不能与原密码相同")
    before = audit_view(account)
    account.password_hash = hash_password(body.new_password.get_secret_value())
    account.token_version += 1
    account.updated_by, account.updated_at = account.username, datetime.now(UTC)
    session.add(account)
    await append_audit(
        session, account, "change_password", "account", account.username, {}, before=before, after=audit_view(account)
    )
