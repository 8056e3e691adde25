"""`Idempotency-Key`: a retried request gets the first answer, and never acts twice.

The first request with a key claims it together with a fingerprint of the
request (method, path, body). A repeat with the same fingerprint gets the
stored answer; one with another fingerprint is refused. A repeat that arrives
while the first is still running (or after it crashed) runs again: the action
underneath is itself deduplicated, so it still acts once and gets the same
answer: an action on a workflow by its update id (= the key), a case start by
the start key in its workflow's memo and a case id derived from the key
(services/api/identification/commands.py). Passing failures (5xx) are not stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import ApiError
from services.api.lone_statements import session_connection
from services.db.tables import IdempotencyRecord

# Built once: each request only binds its values (no statement construction, its cache key memoised).
_new = insert(IdempotencyRecord).values(
    username=bindparam("owner"), key=bindparam("given_key"), request_hash=bindparam("request_hash")
)
# A no-op update on conflict makes RETURNING give the existing row: one round trip either way.
_CLAIM = _new.on_conflict_do_update(
    index_elements=[col(IdempotencyRecord.username), col(IdempotencyRecord.key)],
    set_={"username": _new.excluded.username},
).returning(col(IdempotencyRecord.request_hash), col(IdempotencyRecord.status_code), col(IdempotencyRecord.response))
_KEEP_ANSWER = (
    update(IdempotencyRecord)
    .where(col(IdempotencyRecord.username) == bindparam("owner"), col(IdempotencyRecord.key) == bindparam("given_key"))
    .where(col(IdempotencyRecord.status_code).is_(None))
    .values(status_code=bindparam("status"), response=bindparam("content", type_=JSONB))
)


async def fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), await request.body()):
        digest.update(part + b"\x00")
    return digest.hexdigest()


async def answer_once(
    session: AsyncSession,
    username: str,
    key: str | None,
    request_fingerprint: str,
    produce: Callable[[], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """Runs `produce` (→ status, body) unless this key already has an answer.

    The request's own session is committed before `produce` runs, so no pooled
    connection is held while the workflow works (that would starve the pool
    under load)."""
    claimed = None
    if key is not None:
        claim = {"owner": username, "given_key": key, "request_hash": request_fingerprint}
        claimed = (await (await session_connection(session)).execute(_CLAIM, claim)).one()
    await session.commit()
    if claimed is not None:
        if claimed.request_hash != request_fingerprint:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "该 Idempotency-Key 已用于另一个不同的请求；重试请保持请求内容不变，新请求请使用新的 Key",
                field="Idempotency-Key",
            )
        if claimed.status_code is not None:
            return JSONResponse(
                claimed.response, status_code=claimed.status_code, headers={"Idempotent-Replayed": "true"}
            )
    status, content = await _run(produce)
    response = JSONResponse(content, status_code=status)  # rendered before it is kept
    if key is not None:
        # Joins what `produce` left open on the session, or stands alone (no BEGIN, no COMMIT).
        kept = {"owner": username, "given_key": key, "status": status, "content": content}
        await (await session_connection(session)).execute(_KEEP_ANSWER, kept)
        await session.commit()
    return response


async def _run(produce: Callable[[], Awaitable[tuple[int, Any]]]) -> tuple[int, Any]:
    """The answer's status and its JSON content (stored as it is sent, not parsed back from the body)."""
    try:
        status, body = await produce()
    except ApiError as refusal:
        if refusal.status_code >= 500:
            raise  # a passing failure: the client may retry with the same key
        status, body = refusal.status_code, {"detail": refusal.detail}
    return status, jsonable_encoder(body)
