"""Passwords (argon2id, salted and slow) and bearer tokens (JWT, HS256, expiring).

Tokens name their audience: `staff` (cadres and officers, subject = username) or `applicant`
(households on the mini-program, subject = applicant id). Each audience's check refuses the
other's tokens, so a household token never passes as staff and a staff token never as a household.
"""

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


STAFF, APPLICANT = "staff", "applicant"


def issue_token(settings: Settings, subject: str, audience: str = STAFF) -> tuple[str, datetime]:
    minutes = settings.applicant_token_minutes if audience == APPLICANT else settings.access_token_minutes
    expires_at = datetime.now(UTC) + timedelta(minutes=minutes)
    token = jwt.encode({"sub": subject, "aud": audience, "exp": expires_at}, settings.jwt_secret, algorithm="HS256")
    return token, expires_at


def subject_from_token(settings: Settings, token: str, audience: str = STAFF) -> str | None:
    """The token's subject, or None when it is forged, malformed, expired or for another audience."""
    try:
        claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], audience=audience,
                            options={"require": ["exp", "sub", "aud"]})
    except jwt.PyJWTError:
        return None
    return claims["sub"]
