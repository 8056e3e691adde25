"""What every request must be before a route reads it.

- `BodyGuard` (ASGI): a body of at most `MAX_BODY_BYTES` (413), UTF-8 (as INTERFACES.md says
  of every body) and nested at most `MAX_JSON_DEPTH` levels (422), checked on the raw bytes
  before any parser recurses into them. The exact bytes then go on to the route, so a
  department's signature over the raw body still verifies. A multipart upload to an evidence
  path (`…/evidence`) may be up to `MAX_UPLOAD_BYTES` and binary: its route checks its parts.
  A multipart upload of an import file (`IMPORT_UPLOAD_PATH` exactly) may be up to the configured
  file limit (Settings.import_max_bytes) plus `MULTIPART_ALLOWANCE` and is never held: it streams
  on to its route, counted, and is cut off with the 413 as soon as it passes the limit.
- `check_parameters` (a dependency of every route): no path or query parameter holds a
  character `text_problem` refuses, and no query parameter is one the route does not read,
  with a 422 that names the parameter.

Both answer in the documented error shape.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.errors import invalid
from services.domain.form_fields import printable, text_problem

# The largest real body is a department's batch of 1,000 warnings (INTERFACES.md §3), well under this.
MAX_BODY_BYTES = 4 * 1024 * 1024
# A multipart body carries one evidence file (at most EVIDENCE_MAX_BYTES ≤ 20 MB, checked by its route)
# and a few short fields; binary, so neither UTF-8 nor JSON.
MAX_UPLOAD_BYTES = 21 * 1024 * 1024
# An import file (at most Settings.import_max_bytes, passed in by the app) with its few short fields
# (each at most 1 KB, as the route reads them) and the multipart framing around them.
IMPORT_UPLOAD_PATH = "/api/v1/screening/imports/upload"
MULTIPART_ALLOWANCE = 64 * 1024
# No form nests deeper than 7 levels (a cross-check entry's matches); a parser recursing
# 100,000 levels fails instead of answering.
MAX_JSON_DEPTH = 32

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]+")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_WITHOUT_BODY = {"GET", "HEAD", "OPTIONS"}


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (0 for a scalar), without parsing it:
    strings are cut out, then the brackets left are counted (all in C, even for 4 MB)."""
    brackets = _NOT_BRACKETS.sub(b"", _STRINGS.sub(b"", body))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _refusal(status: int, code: str, message: str) -> bytes:
    detail: dict[str, object] = {"code": code, "message": message}
    if status == 422:
        detail["errors"] = [{"field": "请求", "message": message}]
    return json.dumps({"detail": detail}, ensure_ascii=False).encode()


class BodyGuard:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        max_depth: int = MAX_JSON_DEPTH,
        *,
        import_max_bytes: int,
    ) -> None:
        """`import_max_bytes`: the largest import file (Settings.import_max_bytes)."""
        self.app, self.max_bytes, self.max_depth, self.import_max_bytes = app, max_bytes, max_depth, import_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _WITHOUT_BODY:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        # Only the evidence and import uploads take a file: elsewhere a multipart body is held to the JSON rules.
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        streamed = multipart and scope["path"] == IMPORT_UPLOAD_PATH
        upload = multipart and scope["path"].endswith("/evidence")
        if streamed:
            max_bytes = self.import_max_bytes + MULTIPART_ALLOWANCE
            too_large = _too_large("导入文件", self.import_max_bytes)
        else:
            max_bytes = MAX_UPLOAD_BYTES if upload else self.max_bytes
            too_large = _too_large("请求内容", max_bytes)
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > max_bytes:
            await self._answer(send, *too_large)
            return
        if streamed:
            await self._stream(scope, receive, send, max_bytes, too_large)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: no one to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                await self._answer(send, *too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if not upload and (problem := self._problem(body)):
            await self._answer(send, 422, "invalid", problem)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _stream(
        self, scope: Scope, receive: Receive, send: Send, max_bytes: int, too_large: tuple[int, str, str]
    ) -> None:
        """The body passed on as it arrives; past `max_bytes` the route meets a disconnect, and
        whatever it would answer (or raise) gives way to the 413."""
        size, over, answered = 0, False, False

        async def counted() -> Message:
            nonlocal size, over
            message = await receive()
            size += len(message.get("body", b""))
            if size > max_bytes:
                over = True
                return {"type": "http.disconnect"}
            return message

        async def answer(message: Message) -> None:
            nonlocal answered
            if not over:
                answered = True
                await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not over:
                raise
        if over and not answered:
            await self._answer(send, *too_large)

    def _problem(self, body: bytes) -> str | None:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return "请求内容应为 UTF-8 编码的 JSON"
        if json_depth(body) > self.max_depth:
            return f"请求内容嵌套层级过深（最多{self.max_depth}层）"
        return None

    @staticmethod
    async def _answer(send: Send, status: int, code: str, message: str) -> None:
        body = _refusal(status, code, message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _too_large(what: str, max_bytes: int) -> tuple[int, str, str]:
    return 413, "body_too_large", f"{what}不能超过{size_text(max_bytes)}"


def size_text(count: int) -> str:
    """A limit in the largest unit it is a whole number of (1GB, 512KB): never rounded down to 0MB."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale and count % scale == 0:
            return f"{count // scale}{unit}"
    return f"{count}字节"


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then whatever the client sends next (its disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route (with its dependencies: a handful) reads."""
    return {field.alias for field in dependant.query_params}.union(*map(_query_names, dependant.dependencies))


async def check_parameters(request: Request) -> None:
    """Refuses a path or query parameter holding a control character (or a broken one) before a
    route reads it: none means one, and PostgreSQL cannot even compare a NUL. Refuses a query
    parameter the route does not read: a misspelt filter would otherwise list everything."""
    for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
        for part in (name, value):
            if isinstance(part, str) and (problem := text_problem(part)):
                raise invalid(printable(name), problem)
    route = request.scope.get("route")
    if isinstance(route, APIRoute):
        known = _query_names(route.dependant)
        for name in request.query_params:
            if name not in known:
                raise invalid(printable(name) or "（空参数名）", "不认识的查询参数，请删除")
