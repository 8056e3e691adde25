"""The sign-in session of the pages: the same staff token the API issues, kept in a cookie the
page's script cannot read (HttpOnly), sent on top-level navigation only (SameSite=Lax), and only
over TLS when the page is served over TLS (Secure). Signing out ends the session on the server
too (`ended_sessions`), so a copy of the cookie is refused from then on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.deps import AppResources, current_account
from services.api.errors import ApiError
from services.api.people.security import staff_subject
from services.db.ended_sessions import EndedSession, token_digest
from services.db.tables import Account
from services.settings import Settings

SESSION_COOKIE = "wb_session"


def served_over_tls(request: Request) -> bool:
    # Behind a TLS-terminating proxy, uvicorn's --proxy-headers makes the scheme https here.
    return request.url.scheme == "https"


def start_session(request: Request, response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.access_token_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=served_over_tls(request),
        path="/",
    )


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=served_over_tls(request))


async def record_sign_out(request: Request, session: AsyncSession, settings: Settings) -> None:
    """The cookie's session ended for good: kept until no token issued so far can still be valid
    (`access_token_minutes` from now), and the rows past that point deleted."""
    token = request.cookies.get(SESSION_COOKIE)
    subject = staff_subject(settings, token) if token else None
    if token is None or subject is None:
        return  # no session, or a token refused anyway: nothing to keep (a forged cookie adds no row)
    now = datetime.now(UTC)
    await session.execute(delete(EndedSession).where(col(EndedSession.expires_at) < now))
    ended = {
        "token_sha256": token_digest(token),
        "username": subject[0],
        "ended_at": now,
        "expires_at": now + timedelta(minutes=settings.access_token_minutes),
    }
    await session.execute(insert(EndedSession).values(ended).on_conflict_do_nothing())
    await session.commit()


async def signed_in_account(request: Request, resources: AppResources, session: AsyncSession) -> Account:
    """The account of the session cookie, checked exactly as the API checks a bearer token
    (disabled accounts and retired tokens refused), and refused once signed out; 401
    `not_signed_in` without one."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise ApiError(401, "not_signed_in", "请先登录")
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    return await current_account(resources, session, credentials)
