"""AWS Signature Version 4 for S3 requests (the header form): what MinIO, OSS, COS, OBS and AWS
itself check on every request. Only what the evidence store sends is covered: one object path,
no query string beyond what the caller puts in the URL, the payload's SHA-256 given by the caller."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

import httpx

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    region: str
    service: str = "s3"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _canonical_query(query: bytes) -> str:
    pairs = sorted(parse_qsl(query.decode(), keep_blank_values=True))
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


def authorization_headers(
    method: str,
    url: httpx.URL,
    headers: dict[str, str],
    payload_sha256: str,
    credentials: Credentials,
    now: datetime | None = None,
) -> dict[str, str]:
    """`headers` plus `x-amz-date`, `x-amz-content-sha256` and `Authorization`, every header given
    (and the host) signed. S3 signs the path as sent, each segment encoded once."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamp, day = moment.strftime("%Y%m%dT%H%M%SZ"), moment.strftime("%Y%m%d")
    signed = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    signed |= {"host": url.netloc.decode(), "x-amz-date": stamp, "x-amz-content-sha256": payload_sha256}
    names = sorted(signed)
    canonical_request = "\n".join(
        [
            method.upper(),
            quote(url.path or "/", safe="/-_.~"),
            _canonical_query(url.query),
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload_sha256,
        ]
    )
    scope = f"{day}/{credentials.region}/{credentials.service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = _hmac(f"AWS4{credentials.secret_key}".encode(), day)
    for part in (credentials.region, credentials.service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return {**{k: v for k, v in signed.items() if k != "host"}, "authorization": authorization}
