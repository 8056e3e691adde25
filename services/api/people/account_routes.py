"""Accounts, managed by the admin of the area they belong to. Every change is audited; a
disabled account's tokens stop working at once (each request re-reads the account), and so do
the tokens of an account whose password was reset."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from services.api import pagination
from services.api.access import list_scope, require_role, require_visible
from services.api.deps import CurrentAccount, SessionDep
from services.api.errors import conflict, invalid, not_found
from services.api.people.accounts import (
    AccountIn,
    AccountUpdate,
    account_view,
    audit_view,
    check_placement,
    release_claims_of,
)
from services.api.people.schemas import AccountPage, AccountView
from services.api.people.security import hash_password
from services.db.audit import append_audit
from services.db.tables import Account
from services.domain.areas import area_prefix
from services.domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts 账号管理"])


@router.get("", summary="账号列表（系统管理员）")
async def list_accounts(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码，默认本人辖区")] = None,
    role: Role | None = None,
    disabled: bool | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> AccountPage:
    require_role(account, Role.admin)
    query = select(Account).where(Account.area_code.startswith(area_prefix(list_scope(account, area))))
    if role is not None:
        query = query.where(Account.role == role)
    if disabled is not None:
        query = query.where(Account.disabled == disabled)
    if cursor is not None:
        query = query.where(Account.username > pagination.decode(cursor)[1])
    rows = (await session.exec(query.order_by(Account.username).limit(limit + 1))).all()
    last = rows[limit - 1] if len(rows) > limit else None
    return AccountPage(
        items=[account_view(a) for a in rows[:limit]],
        next_cursor=pagination.encode(last.created_at, last.username) if last else None,
    )


@router.post("", status_code=201, summary="新建账号（系统管理员）")
async def create_account(body: AccountIn, account: CurrentAccount, session: SessionDep) -> AccountView:
    require_role(account, Role.admin)
    await check_placement(session, account, body.role, body.area_code)
    created = Account(
        username=body.username,
        display_name=body.display_name,
        role=body.role,
        area_code=body.area_code,
        password_hash=hash_password(body.password.get_secret_value()),
        updated_by=account.username,
    )
    session.add(created)
    try:
        await session.flush()
    except IntegrityError:
        raise conflict("username_taken", "该登录名已被使用", field="username") from None
    await append_audit(
        session,
        account,
        "create_account",
        "account",
        created.username,
        {"username": created.username},
        before={},
        after=audit_view(created),
    )
    await session.commit()
    await session.refresh(created)
    return account_view(created)


async def _managed(session: SessionDep, admin: Account, username: str, for_update: bool = False) -> Account:
    require_role(admin, Role.admin)
    found = await session.get(Account, username, with_for_update=for_update) if len(username) <= 50 else None
    if found is None:
        raise not_found("没有找到该账号，或不在您的管辖区域内")
    require_visible(admin, found.area_code, "没有找到该账号，或不在您的管辖区域内")
    return found


@router.get("/{username}", summary="账号详情（系统管理员）")
async def get_account(username: str, account: CurrentAccount, session: SessionDep) -> AccountView:
    return account_view(await _managed(session, account, username))


@router.patch("/{username}", summary="修改、停用或重置密码（系统管理员）")
async def update_account(
    username: str, body: AccountUpdate, account: CurrentAccount, session: SessionDep
) -> AccountView:
    """Fields left out stay as they are. Disabling, or moving the account to another role or area,
    releases the tasks it holds; disabling or a password reset ends its sign-ins at once."""
    target = await _managed(session, account, username, for_update=True)
    if target.username == account.username and (
        body.disabled or body.role not in (None, account.role) or body.area_code not in (None, account.area_code)
    ):
        raise invalid("username", "不能停用自己的账号或修改自己的角色、区划")
    before = audit_view(target)
    role = body.role or Role(target.role)
    area_code = body.area_code or target.area_code
    if body.role is not None or body.area_code is not None:
        await check_placement(session, account, role, area_code)
    moved = (role, area_code) != (target.role, target.area_code)
    target.display_name = body.display_name or target.display_name
    target.role, target.area_code = role, area_code
    if body.disabled is not None:
        target.disabled = body.disabled
    if body.password is not None:
        target.password_hash = hash_password(body.password.get_secret_value())
        target.token_version += 1
    target.updated_by, target.updated_at = account.username, datetime.now(UTC)
    released = await release_claims_of(session, target.username) if moved or target.disabled else []
    session.add(target)
    await session.flush()
    await append_audit(
        session,
        account,
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
    await session.commit()
    await session.refresh(target)
    return account_view(target)
