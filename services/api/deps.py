"""FastAPI dependencies: the app's shared resources and the signed-in account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from services.api.case_changes import CaseChanges
from services.api.errors import ApiError
from services.api.people.security import staff_subject
from services.db.ended_sessions import EndedSession, token_digest
from services.db.engine import session_factory, standalone
from services.db.tables import Account
from services.settings import Settings


@dataclass
class AppResources:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    temporal: Client
    case_changes: CaseChanges

    @cached_property
    def lone_sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the same pool whose statements each stand alone (services/api/lone_statements.py)."""
        return session_factory(standalone(self.engine))


def client_address(request: Request) -> str:
    """Who is asking, for limits per address. Behind a proxy, run uvicorn with --proxy-headers."""
    return (request.client.host if request.client else "unknown")[:45]


# The dependencies here are `async def` though they do not await: FastAPI runs a plain `def`
# dependency in its thread pool, a thread hand-off on every request for nothing.
async def get_resources(request: Request) -> AppResources:
    return request.app.state.resources


Resources = Annotated[AppResources, Depends(get_resources)]


async def get_session(resources: Resources) -> AsyncIterator[AsyncSession]:
    async with resources.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_lone_session(resources: Resources) -> AsyncIterator[AsyncSession]:
    """For routes that only read, or write one statement at a time (an idempotency claim): no
    BEGIN and no COMMIT or ROLLBACK round trips. Not for a route whose writes must stand or fall together."""
    async with resources.lone_sessions() as session:
        yield session


LoneSessionDep = Annotated[AsyncSession, Depends(get_lone_session)]

SESSION_ENDED = "session_ended"

# Read on every request, so built once: a request only binds the name and the token's digest.
# A token signed out of the workbench is refused by the same query, by its digest.
_ACCOUNT = select(Account, exists().where(col(EndedSession.token_sha256) == bindparam("digest"))).where(
    col(Account.username) == bindparam("username")
)

_bearer = HTTPBearer(auto_error=False, description="POST /api/v1/auth/login 返回的 access_token")


async def current_account(
    resources: Resources,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Account:
    if credentials is None:
        raise ApiError(401, "not_signed_in", "请先登录")
    token = credentials.credentials
    subject = staff_subject(resources.settings, token)
    if subject is None:
        raise ApiError(401, "token_invalid", "登录已失效，请重新登录")
    # The account is read on every request, so disabling it (or changing its password) takes effect at once.
    row = (await session.execute(_ACCOUNT, {"username": subject[0], "digest": token_digest(token)})).first()
    if row is not None and row[1]:
        raise ApiError(401, SESSION_ENDED, "您已退出登录，请重新登录")
    account = row[0] if row is not None else None
    if account is None or account.disabled or subject[1] != account.token_version:
        raise ApiError(401, "token_invalid", "登录已失效，请重新登录")
    return account


CurrentAccount = Annotated[Account, Depends(current_account)]


async def lone_account(
    resources: Resources,
    session: LoneSessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Account:
    """`current_account`, read on the request's lone session (`get_lone_session`)."""
    return await current_account(resources, session, credentials)


LoneAccount = Annotated[Account, Depends(lone_account)]


async def idempotency_key(
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=100, min_length=1)] = None,
) -> str | None:
    return key


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
