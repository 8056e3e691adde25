"""Request signing between the service and departments (INTERFACES.md, "Signing").

    X-Timestamp: Unix seconds
    X-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

Both directions use the same rules; a receiver refuses (401) a missing or wrong
signature, or a timestamp more than 300 seconds from its own clock.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"
MAX_CLOCK_SKEW_SECONDS = 300
_PREFIX = "sha256="


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "Content-Type": "application/json",
    }


def fresh_timestamp(headers: Mapping[str, str], now: float | None = None) -> str | None:
    """The request's timestamp if it is present, well-formed and within the allowed skew."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not timestamp or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return None
    skew = abs((time.time() if now is None else now) - int(timestamp))
    return timestamp if skew <= MAX_CLOCK_SKEW_SECONDS else None


def signed_by(secrets: Iterable[str], headers: Mapping[str, str], body: bytes, timestamp: str) -> int | None:
    """Index of the secret that signed the request, or None. Compares in constant time."""
    given = headers.get(SIGNATURE_HEADER, "")
    for index, secret in enumerate(secrets):
        if hmac.compare_digest(given.encode(), signature(secret, timestamp, body).encode()):
            return index
    return None


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> bool:
    timestamp = fresh_timestamp(headers, now)
    return timestamp is not None and signed_by([secret], headers, body, timestamp) == 0
