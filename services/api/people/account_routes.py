"""Accounts, managed by the admin of the area they belong to. Every change is audited; a
disabled account's tokens stop working at once (each request re-reads the account), and so do
the tokens of an account whose password was reset."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api.access import list_scope, require_role
from services.api.deps import CurrentAccount, SessionDep
from services.api.people.accounts import AccountIn, AccountUpdate, account_view
from services.api.people.schemas import AccountPage, AccountView
from services.api.people.service import account_page, add_account, change_account, managed_account
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
    return await account_page(session, list_scope(account, area), role, disabled, limit, cursor)


@router.post("", status_code=201, summary="新建账号（系统管理员）")
async def create_account(body: AccountIn, account: CurrentAccount, session: SessionDep) -> AccountView:
    created = await add_account(session, account, body)
    await session.commit()
    await session.refresh(created)
    return account_view(created)


@router.get("/{username}", summary="账号详情（系统管理员）")
async def get_account(username: str, account: CurrentAccount, session: SessionDep) -> AccountView:
    return account_view(await managed_account(session, account, username))


@router.patch("/{username}", summary="修改、停用或重置密码（系统管理员）")
async def update_account(
    username: str, body: AccountUpdate, account: CurrentAccount, session: SessionDep
) -> AccountView:
    """Fields left out stay as they are. Disabling, or moving the account to another role or area,
    releases the tasks it holds; disabling or a password reset ends its sign-ins at once."""
    changed = await change_account(session, account, username, body)
    await session.commit()
    await session.refresh(changed)
    return account_view(changed)
