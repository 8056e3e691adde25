"""Sign-in: username and password in, an expiring bearer token out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from services.api.deps import CurrentAccount, Resources, SessionDep, client_address
from services.api.errors import ApiError
from services.api.people.accounts import PasswordChange
from services.api.people.schemas import Me, Token
from services.api.people.security import issue_token
from services.api.people.service import set_own_password
from services.api.people.sign_in import sign_in
from services.domain.form_fields import Text
from services.domain.vocabulary import ROLE_LABELS, Role

router = APIRouter(prefix="/api/v1/auth", tags=["auth 登录"])


class Login(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "dongkeng.zhang", "password": "Dongkeng#2026"}]}
    )

    username: Annotated[str, Text(50, min_length=1, strip=False)]
    password: Annotated[str, Text(200, min_length=1, strip=False)]


@router.post("/login", summary="登录")
async def login(body: Login, request: Request, resources: Resources, session: SessionDep) -> Token:
    """Failures are limited per account name and per address (services/api/people/sign_in.py):
    past the limit, 429 `sign_in_locked` says when to try again (`retry_after`, `locked_until`)."""
    account = await sign_in(session, resources.settings, body.username, body.password, client_address(request))
    await session.commit()  # the failure counted and audited, or the count reset
    if isinstance(account, ApiError):
        raise account
    token, expires_at = issue_token(resources.settings, account.username, token_version=account.token_version)
    return Token(access_token=token, expires_at=expires_at)


@router.post("/password", summary="修改本人密码")
async def change_password(
    body: PasswordChange, account: CurrentAccount, resources: Resources, session: SessionDep
) -> Token:
    """Answers a new token: every other token of the account (other devices) stops working."""
    await set_own_password(session, account, body)
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
