"""CSRF protection for every form of the pages (signed double-submit): the browser holds a random
nonce in an HttpOnly cookie, and each form carries an HMAC of it. A cross-site page can make the
browser send the cookie, but cannot read it to compute the form's token."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from services.api.errors import forbidden
from services.web.session import served_over_tls

CSRF_COOKIE = "wb_csrf"
CSRF_FIELD = "csrf_token"


def _token_of(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def form_token(request: Request, secret: str) -> str:
    """The token for this page's forms; a new nonce (set by `keep_nonce`) if the browser has none."""
    nonce = getattr(request.state, "csrf_nonce", None) or request.cookies.get(CSRF_COOKIE)
    if not nonce:
        nonce = request.state.csrf_nonce = secrets.token_urlsafe(32)
    return _token_of(secret, nonce)


def renew_nonce(request: Request) -> None:
    """A fresh nonce on sign-in and sign-out, so a token seen before does not outlive the session."""
    request.state.csrf_nonce = secrets.token_urlsafe(32)


def keep_nonce(request: Request, response: Response) -> None:
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce:
        response.set_cookie(
            CSRF_COOKIE, nonce, httponly=True, samesite="lax", secure=served_over_tls(request), path="/"
        )


def check_form_token(request: Request, secret: str, sent: object) -> None:
    """403 unless the form carries the token of the browser's nonce."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if not nonce or not isinstance(sent, str) or not hmac.compare_digest(sent, _token_of(secret, nonce)):
        raise forbidden("页面已过期或来源不明（安全校验未通过），请刷新页面后重新提交")
