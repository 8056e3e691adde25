"""Checking a department's signature on what it sends (INTERFACES.md, "Signing").

Who signed is settled before anything the request names is looked up, so a caller without a
department's secret learns nothing (no 404 for a request it guessed, only 401)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.api.errors import ApiError
from services.departments.secret_box import SecretBox
from services.departments.signing import fresh_timestamp, signed_by

_DEPARTMENTS = text("""
    SELECT id, county_code, kind, secret_sealed,
           CASE WHEN previous_secret_until > now() THEN previous_secret_sealed END AS previous_sealed
    FROM departments
    WHERE (CAST(:kind AS text) IS NULL OR kind = :kind) AND (enabled OR NOT :enabled_only)
    ORDER BY id
""")


@dataclass(frozen=True)
class Signer:
    id: int
    county_code: str
    kind: str


def signature_refused() -> ApiError:
    return ApiError(401, "signature_invalid", "签名无效、缺失或时间戳与服务器时间相差超过300秒")


def require_fresh_timestamp(headers: Mapping[str, str]) -> str:
    timestamp = fresh_timestamp(headers)
    if timestamp is None:
        raise signature_refused()
    return timestamp


def require_signer(secrets: Sequence[str], headers: Mapping[str, str], body: bytes, timestamp: str) -> int:
    """Index of the secret that signed `body`; 401 if none did."""
    index = signed_by(secrets, headers, body, timestamp)
    if index is None:
        raise signature_refused()
    return index


async def signing_department(
    conn: AsyncConnection,
    box: SecretBox,
    headers: Mapping[str, str],
    body: bytes,
    kind: str | None = None,
    enabled_only: bool = False,
) -> Signer:
    """The department whose secret signed `body` (among those of `kind`, when given); 401 if none did.
    A secret replaced less than its grace period ago still counts."""
    timestamp = require_fresh_timestamp(headers)
    rows = (await conn.execute(_DEPARTMENTS, {"kind": kind, "enabled_only": enabled_only})).all()
    candidates = [
        (row, secret)
        for row in rows
        for sealed in (row.secret_sealed, row.previous_sealed)
        if (secret := _opened(box, sealed, row.county_code, row.kind))
    ]
    row = candidates[require_signer([secret for _, secret in candidates], headers, body, timestamp)][0]
    return Signer(id=row.id, county_code=row.county_code, kind=row.kind)


def _opened(box: SecretBox, sealed: str | None, county_code: str, kind: str) -> str | None:
    """None for a secret not set or unreadable (sealed with another key): nothing verifies against it."""
    if not sealed:
        return None
    try:
        return box.open(sealed, county_code, kind)
    except (InvalidTag, ValueError):
        return None
