"""The base of the API's own ASGI middlewares: they act on HTTP requests (lifespan events pass
through) and see the answer's status as it starts."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Answer:
    """The request's `send`: remembers the answer's status once it starts, and adds `headers` to it."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None
        self.headers: dict[str, str] = {}

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            added = MutableHeaders(scope=message)
            for name, value in self.headers.items():
                added[name] = value
        await self._send(message)


class HttpMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, Answer(send))

    async def handle(self, scope: Scope, receive: Receive, answer: Answer) -> None:
        raise NotImplementedError
