"""The sign-in session of the pages: the same staff token the API issues, kept in a cookie the
page's script cannot read (HttpOnly), sent on top-level navigation only (SameSite=Lax), and only
over TLS when the page is served over TLS (Secure)."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from services.api.deps import AppResources, current_account
from services.api.errors import ApiError
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


async def signed_in_account(request: Request, resources: AppResources, session: object) -> Account:
    """The account of the session cookie, checked exactly as the API checks a bearer token
    (disabled accounts and retired tokens refused); 401 `not_signed_in` without one."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise ApiError(401, "not_signed_in", "请先登录")
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    return await current_account(resources, session, credentials)  # type: ignore[arg-type]
