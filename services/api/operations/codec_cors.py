"""CORS for the codec paths only, for the Temporal UI's origin (CODEC_CORS_ORIGIN): the UI's
browser calls /codec/decode itself, with the bearer token and X-Namespace. No other path
answers CORS, and no other origin gets the codec's."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/codec/"


class CodecCors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._by_origin: dict[str, ASGIApp] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = None
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            origin = scope["app"].state.resources.settings.codec_cors_origin
        if not origin:
            await self.app(scope, receive, send)
            return
        if origin not in self._by_origin:  # settings are read at start-up (lifespan), so one origin per app
            self._by_origin[origin] = CORSMiddleware(
                self.app,
                allow_origins=[origin],
                allow_methods=["POST"],
                allow_headers=["Authorization", "Content-Type", "X-Namespace"],
                allow_credentials=True,
                max_age=600,
            )
        await self._by_origin[origin](scope, receive, send)
