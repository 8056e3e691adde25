"""`Idempotency-Key`: a retried request gets the first answer, and never acts twice.

The first request with a key claims it together with a fingerprint of the
request (method, path, body). A repeat with the same fingerprint gets the
stored answer; one with another fingerprint is refused. A repeat that arrives
while the first is still running (or after it crashed) runs again: the action
underneath is itself deduplicated (Temporal update id = the key), so it still
acts once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import ApiError
from services.db.tables import IdempotencyRecord


async def fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), await request.body()):
        digest.update(part + b"\x00")
    return digest.hexdigest()


async def answer_once(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    key: str | None,
    request_fingerprint: str,
    produce: Callable[[], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """Runs `produce` (→ status, body) unless this key already has an answer."""
    if key is None:
        return await _run(produce)
    async with sessions() as session:
        await session.execute(
            insert(IdempotencyRecord)
            .values(username=username, key=key, request_hash=request_fingerprint)
            .on_conflict_do_nothing()
        )
        record = await session.get(IdempotencyRecord, (username, key))
        await session.commit()
    assert record is not None
    if record.request_hash != request_fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "该 Idempotency-Key 已用于另一个不同的请求；重试请保持请求内容不变，新请求请使用新的 Key",
            field="Idempotency-Key",
        )
    if record.status_code is not None:
        return JSONResponse(record.response, status_code=record.status_code, headers={"Idempotent-Replayed": "true"})
    response = await _run(produce)
    async with sessions() as session:
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.username == username, IdempotencyRecord.key == key)
            .where(IdempotencyRecord.status_code.is_(None))
            .values(status_code=response.status_code, response=_body_of(response))
        )
        await session.commit()
    return response


async def _run(produce: Callable[[], Awaitable[tuple[int, Any]]]) -> JSONResponse:
    try:
        status, body = await produce()
    except ApiError as refusal:
        if refusal.status_code >= 500:
            raise  # a passing failure: the client may retry with the same key
        status, body = refusal.status_code, {"detail": refusal.detail}
    return JSONResponse(jsonable_encoder(body), status_code=status)


def _body_of(response: JSONResponse) -> Any:
    return json.loads(bytes(response.body))
