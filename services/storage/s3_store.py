"""Evidence in an S3-compatible bucket (MinIO, OSS, COS, OBS, Ceph, AWS), path-style addressing
(`{endpoint}/{bucket}/{key}`: works with private endpoints that have no wildcard DNS), every request
signed with Signature Version 4. An object is written by one PUT, which S3 stores whole or not at
all, so a reader never sees half a file; it is read back as a stream."""

from __future__ import annotations

import hashlib
import logging
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import cache

import httpx

from services.storage.sigv4 import EMPTY_SHA256, Credentials, authorization_headers
from services.storage.stored import (
    CHUNK_BYTES,
    EvidenceFileMissing,
    EvidenceStorageUnavailable,
    StoredFile,
    checked_key,
)

log = logging.getLogger(__name__)
# Per read or write, not the whole transfer: a slow phone upload is already in memory by now.
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@cache
def _tls() -> ssl.SSLContext:
    """The system's trusted CAs, loaded once: loading them for every request's client took ~100 ms."""
    return ssl.create_default_context()


def _client() -> httpx.AsyncClient:
    # One client (one connection) per operation: the store outlives no event loop, and an upload
    # or a download is one request.
    return httpx.AsyncClient(timeout=TIMEOUT, verify=_tls())


_ERROR_CODE = re.compile(rb"<Code>([A-Za-z0-9.]{1,64})</Code>")


def _error_code(response: httpx.Response) -> str:
    """S3's own error code (`NoSuchBucket`, `InvalidAccessKeyId`, …) for the log, else the status."""
    found = _ERROR_CODE.search(response.content[:4096]) if response.is_stream_consumed else None
    return f"{response.status_code} {found.group(1).decode() if found else ''}".strip()


class S3Store:
    def __init__(self, endpoint: str, bucket: str, credentials: Credentials) -> None:
        self.bucket_url = httpx.URL(f"{endpoint.rstrip('/')}/{bucket}/")
        self.credentials = credentials

    def _request(self, client: httpx.AsyncClient, method: str, key: str, content: bytes = b"") -> httpx.Request:
        url = self.bucket_url.join(checked_key(key))
        digest = hashlib.sha256(content).hexdigest() if content else EMPTY_SHA256
        headers = authorization_headers(method, url, {}, digest, self.credentials)
        return client.build_request(method, url, headers=headers, content=content or None)

    async def _send(
        self, client: httpx.AsyncClient, method: str, key: str, content: bytes = b"", stream: bool = False
    ) -> httpx.Response:
        try:
            return await client.send(self._request(client, method, key, content), stream=stream)
        except httpx.HTTPError as error:
            raise EvidenceStorageUnavailable(f"{method} {key}: {type(error).__name__}") from error

    async def put(self, key: str, content: bytes) -> None:
        """The payload's SHA-256 is signed: the server refuses a body changed on the way."""
        async with _client() as client:
            response = await self._send(client, "PUT", key, content)
        if response.status_code != 200:
            raise EvidenceStorageUnavailable(f"PUT {key}: {_error_code(response)}")

    async def open(self, key: str) -> StoredFile:
        client = _client()
        try:
            response = await self._send(client, "GET", key, stream=True)
            if response.status_code != 200:
                await response.aread()
                await response.aclose()
                # S3 says NoSuchKey; some gateways answer a bare 404. A missing bucket is the setup's fault.
                if response.status_code == 404 and b"NoSuchBucket" not in response.content:
                    raise EvidenceFileMissing(key)
                raise EvidenceStorageUnavailable(f"GET {key}: {_error_code(response)}")
        except BaseException:
            await client.aclose()
            raise

        async def close() -> None:
            await response.aclose()
            await client.aclose()

        size = int(response.headers.get("content-length", -1))
        return StoredFile(size, _chunks(response, close), close)

    async def delete(self, key: str) -> None:
        """S3 answers 204 whether or not the object was there. A failure is logged, not raised: this
        runs while an upload is being undone, and an object no row names is harmless."""
        try:
            async with _client() as client:
                response = await self._send(client, "DELETE", key)
            if response.status_code not in (200, 204):
                raise EvidenceStorageUnavailable(f"DELETE {key}: {_error_code(response)}")
        except EvidenceStorageUnavailable as error:
            log.warning("evidence object left in the bucket, no row names it: %s", error)


async def _chunks(response: httpx.Response, close: Callable[[], Awaitable[None]]) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw(CHUNK_BYTES):
            yield chunk
    finally:
        await close()
