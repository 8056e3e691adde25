"""Passwords (argon2id, salted and slow) and bearer tokens (JWT, HS256, expiring)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def issue_token(settings: Settings, username: str, token_version: int = 0) -> tuple[str, datetime]:
    """`token_version` is the account's: raising it (a password change) retires every older token."""
    expires_at = datetime.now(UTC) + timedelta(minutes=settings.access_token_minutes)
    claims = {"sub": username, "ver": token_version, "exp": expires_at}
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256"), expires_at


def token_subject(settings: Settings, token: str) -> tuple[str, int] | None:
    """The token's (username, token version), or None when it is forged, malformed or expired."""
    try:
        claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    version = claims.get("ver", 0)
    return (claims["sub"], version) if isinstance(version, int) else None


def password_problem(password: str) -> str | None:
    """Why a new password is too weak, in words a cadre reads; None if it will do."""
    classes = sum(any(test(c) for c in password) for test in (str.islower, str.isupper, str.isdigit,
                                                              lambda c: not c.isalnum()))
    if len(password) < 8 or classes < 3:
        return "密码至少8位，且须包含大写字母、小写字母、数字、符号中的至少三种"
    return None
