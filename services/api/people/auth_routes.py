"""Sign-in: username and password in, an expiring bearer token out."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from services.api.deps import CurrentAccount, Resources, SessionDep
from services.api.errors import ApiError, invalid
from services.api.people.accounts import PasswordChange, audit_view
from services.api.people.schemas import Me, Token
from services.api.people.security import hash_password, issue_token, verify_password
from services.db.audit import append_audit
from services.db.tables import Account
from services.domain.form_fields import Text
from services.domain.vocabulary import ROLE_LABELS, Role

router = APIRouter(prefix="/api/v1/auth", tags=["auth 登录"])


class Login(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "dongkeng.zhang", "password": "Dongkeng#2026"}]}
    )

    username: Text(50, min_length=1, strip=False)
    password: Text(200, min_length=1, strip=False)


@router.post("/login", summary="登录")
async def login(body: Login, resources: Resources, session: SessionDep) -> Token:
    account = await session.get(Account, body.username)
    if not verify_password(body.password, account.password_hash if account else None) or account is None:
        raise ApiError(401, "bad_credentials", "用户名或密码不正确")
    if account.disabled:
        raise ApiError(401, "account_disabled", "该账号已停用，请联系管理员")
    token, expires_at = issue_token(resources.settings, account.username, token_version=account.token_version)
    return Token(access_token=token, expires_at=expires_at)


@router.post("/password", summary="修改本人密码")
async def change_password(
    body: PasswordChange, account: CurrentAccount, resources: Resources, session: SessionDep
) -> Token:
    """Answers a new token: every other token of the account (other devices) stops working."""
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
    await session.commit()
    token, expires_at = issue_token(resources.settings, account.username, token_version=account.token_version)
    return Token(access_token=token, expires_at=expires_at)


@router.get("/me", summary="当前登录账号")
async def me(account: CurrentAccount) -> Me:
    role = Role(account.role)
    return Me(
        username=account.username,
        display_name=account.display_name,
        role=role,
        role_label=ROLE_LABELS[role],
        area_code=account.area_code,
    )
