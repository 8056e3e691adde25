"""Passwords (argon2id, salted and slow) and bearer tokens (JWT, HS256, expiring).

Tokens name their audience: `staff` (cadres and officers, subject = username) or `applicant`
(households on the mini-program, subject = applicant id). Each audience's check refuses the
other's tokens, so a household token never passes as staff and a staff token never as a household.
Staff tokens also carry the account's token version (raised by a password change).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.settings import Settings

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


STAFF, APPLICANT = "staff", "applicant"


def issue_token(
    settings: Settings, subject: str, audience: str = STAFF, token_version: int = 0
) -> tuple[str, datetime]:
    """A staff token also carries the account's `token_version`: raising it (a password change)
    retires every older token. Applicant tokens carry none."""
    minutes = settings.applicant_token_minutes if audience == APPLICANT else settings.access_token_minutes
    expires_at = datetime.now(UTC) + timedelta(minutes=minutes)
    # `jti`: two sign-ins in the same second are two sessions (a sign-out ends one by its token's digest).
    claims = {"sub": subject, "aud": audience, "exp": expires_at, "jti": secrets.token_hex(16)}
    if audience == STAFF:
        claims["ver"] = token_version
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256"), expires_at


def subject_from_token(settings: Settings, token: str, audience: str = STAFF) -> str | None:
    """The token's subject, or None when it is forged, malformed, expired or for another audience."""
    claims = _claims(settings, token, audience)
    return claims["sub"] if claims else None


def staff_subject(settings: Settings, token: str) -> tuple[str, int] | None:
    """A staff token's (username, token version), or None when it is no valid staff token."""
    claims = _claims(settings, token, STAFF)
    version = claims.get("ver", 0) if claims else None
    return (claims["sub"], version) if claims and isinstance(version, int) else None


def _claims(settings: Settings, token: str, audience: str) -> dict[str, Any] | None:
    try:
        return jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=audience,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.PyJWTError:
        return None


def password_problem(password: str) -> str | None:
    """Why a new password is too weak, in words a cadre reads; None if it will do."""
    classes = sum(
        any(test(c) for c in password) for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    if len(password) < 8 or classes < 3:
        return "密码至少8位，且须包含大写字母、小写字母、数字、符号中的至少三种"
    return None
