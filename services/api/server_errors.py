"""Errors no route answered itself: answered in the documented shape, logged without values.

Starlette's default answers a bare `Internal Server Error` and lets the server log the
exception's text, which for a database error can hold a refused value or a failing row
(personal data). Here, beneath Starlette's last-resort handler, every such error becomes:

- 503 `database_unavailable` with `Retry-After` while PostgreSQL is away or busy
  (services/db/failures.py `passing`); the engine's timeouts bound how long that takes;
- 503 `workflow_unavailable` with `Retry-After` while Temporal is unreachable (as routes answer it);
- 422 `unrecordable` when PostgreSQL refuses the data itself (`incurable`): the request's
  transaction is rolled back, so nothing changed, and sending it again would fail again;
- 500 `internal_error` for anything else (a bug).

The log line names the request's method and path and `describe(error)`; never a body, a query
string or an error's own text.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope
from temporalio.service import RPCError, RPCStatusCode

from services.api.errors import RETRY_AFTER_SECONDS, workflow_unavailable
from services.api.http_middleware import Answer, HttpMiddleware
from services.db import failures
from services.workflows.refusals import UNRECORDABLE_MESSAGE

log = logging.getLogger("services.api")

_TEMPORAL_AWAY = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)


def _answer(status: int, code: str, message: str, retry_after: bool = False) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if retry_after else None
    return JSONResponse({"detail": {"code": code, "message": message}}, status_code=status, headers=headers)


def answer_for(error: Exception) -> JSONResponse:
    if failures.passing(error):
        return _answer(
            503,
            "database_unavailable",
            "数据库暂时无法访问，本次操作未完成，请稍后重试（带 Idempotency-Key 的请求请用同一个 Key 重试）",
            retry_after=True,
        )
    if isinstance(error, RPCError) and error.status in _TEMPORAL_AWAY:
        away = workflow_unavailable()
        return JSONResponse({"detail": away.detail}, status_code=away.status_code, headers=away.headers)
    if failures.incurable(error):
        return _answer(422, "unrecordable", UNRECORDABLE_MESSAGE)
    return _answer(500, "internal_error", "服务内部错误，本次操作可能未完成，请稍后重试；如一再出现请联系系统管理员")


class ServerErrors(HttpMiddleware):
    """ASGI middleware: catches what the routes and FastAPI's own handlers let through."""

    async def handle(self, scope: Scope, receive: Receive, answer: Answer) -> None:
        try:
            await self.app(scope, receive, answer)
        except Exception as error:
            response = answer_for(error)
            _log(scope, error, response.status_code)
            if answer.status is None:  # otherwise the server ends the half-sent answer
                await response(scope, receive, answer)


def _log(scope: Scope, error: Exception, status: int) -> None:
    where: dict[str, Any] = {"method": scope.get("method"), "path": scope.get("path"), "status": status}
    if status == 503:  # an outage: one line per request, no stack
        log.warning("%(method)s %(path)s answered %(status)d: %(error)s", where | {"error": failures.describe(error)})
        return
    stack = "".join(traceback.format_tb(error.__traceback__))  # code lines only, no values
    log.error(
        "%(method)s %(path)s answered %(status)d: %(error)s\n%(stack)s",
        where | {"error": failures.describe(error), "stack": stack},
    )
