"""Checking a department's signature on what it sends (INTERFACES.md, "Signing")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.api.errors import ApiError
from services.departments.signing import fresh_timestamp, signed_by


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
