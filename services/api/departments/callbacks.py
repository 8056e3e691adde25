"""A department's cross-check result (INTERFACES.md §2): checked, stored, answered.

The result is stored in the inbox (`cross_check_callbacks`) in the same transaction
that checks it, with a notification for the worker's forwarder, which hands it to the
case (services/workers/departments/inbox.py). So a department gets its 200 as soon as
PostgreSQL holds the result, whether or not Temporal is reachable at that moment, and
nothing accepted is lost. Whether the request still awaits a result is read from the
request's read-model row, which the case moves forward with every change.

No transaction around it (services/api/lone_statements.py): the one write is a single
statement (the stored result and its notification), and a refusal writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.departments.signatures import signature_refused, signing_department
from services.api.errors import ApiError, conflict, described_errors, invalid, not_found
from services.db.engine import standalone
from services.departments.contract import CrossCheckCallback
from services.departments.inbox_channel import RESULTS, notify_sql
from services.departments.secret_box import SecretBox
from services.domain.vocabulary import AWAITING_RESULT

_FIND_REQUEST = text("""
    SELECT r.department, r.status, r.is_live, r.workflow_id, r.run_id, r.task_queue, r.county_code, c.result_hash
    FROM cross_check_requests r
    LEFT JOIN cross_check_callbacks c ON c.request_id = r.request_id
    WHERE r.request_id = :request_id
""")
_STORE_RESULT = text(f"""
    WITH stored AS (
        INSERT INTO cross_check_callbacks (request_id, department, workflow_id, run_id, task_queue, result, result_hash)
        VALUES (:request_id, :department, :workflow_id, :run_id, :task_queue, CAST(:result AS jsonb), :result_hash)
        ON CONFLICT (request_id) DO NOTHING
        RETURNING request_id)
    SELECT request_id, {notify_sql(RESULTS)} FROM stored
""")
_STORED_HASH = text("SELECT result_hash FROM cross_check_callbacks WHERE request_id = :request_id")
_AWAITING = {str(s) for s in AWAITING_RESULT}


async def accept_result(engine: AsyncEngine, box: SecretBox, request_id: str, headers: Any, body: bytes) -> str:
    """`recorded`, or `repeat` for a result already recorded; raises the contract's 401/404/409/422."""
    async with standalone(engine).connect() as conn:
        # Authenticated first: without a department's secret, a caller cannot tell which requests exist.
        signer = await signing_department(conn, box, headers, body)
        request = (
            (await conn.execute(_FIND_REQUEST, {"request_id": request_id})).first() if len(request_id) <= 64 else None
        )
        if request is None:
            raise not_found("没有这个比对请求")
        if (signer.county_code, signer.kind) != (request.county_code, request.department):
            raise signature_refused()  # signed by another department → 401, like any wrong signature
        callback = _parse(body, request_id, request.department)
        result = callback.result().model_dump(mode="json")
        result_hash = hashlib.sha256(json.dumps(result, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        if request.result_hash is not None:
            return _repeat_or_conflict(request.result_hash, result_hash)
        if not request.is_live or request.status not in _AWAITING:
            raise conflict("not_awaiting", "该比对请求已不再等待结果（案件已进入后续环节、已办结，或结果已录入）")
        stored = (
            await conn.execute(
                _STORE_RESULT,
                {
                    "request_id": request_id,
                    "department": request.department,
                    "workflow_id": request.workflow_id,
                    "run_id": request.run_id,
                    "task_queue": request.task_queue,
                    "result": json.dumps(result),
                    "result_hash": result_hash,
                },
            )
        ).first()
        if stored is None:  # the same request answered at the same moment by another call
            return _repeat_or_conflict(await conn.scalar(_STORED_HASH, {"request_id": request_id}), result_hash)
    return "recorded"


def _parse(body: bytes, request_id: str, department: str) -> CrossCheckCallback:
    try:
        callback = CrossCheckCallback.model_validate_json(body)
    except ValidationError as error:
        summary, items = described_errors(list(error.errors()))
        raise ApiError(422, "invalid", summary, errors=items) from None
    if callback.request_id != request_id:
        raise invalid("request_id", "与回调地址中的请求编号不一致")
    if callback.department != department:
        raise invalid("department", "与该比对请求的部门不一致")
    return callback


def _repeat_or_conflict(stored_hash: str | None, result_hash: str) -> str:
    if stored_hash == result_hash:
        return "repeat"
    raise conflict("already_answered", "该比对请求已收到不同的结果，不再接受新的结果")
