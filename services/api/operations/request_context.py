"""ASGI middleware, outermost: each request gets its request id (services/observability/request_ids.py),
answered in `X-Request-ID` and set for every log line and Temporal call the request makes, and, when
tracing is on, one server span that the workflow and activity spans of the request hang from."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.operations.routes_seen import route_template
from services.observability.request_ids import HEADER, accepted_or_new, request_id


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        current = accepted_or_new(Headers(scope=scope).get(HEADER))
        token = request_id.set(current)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = current
            await send(message)

        # Set by the app's lifespan (services/api/app.py): None when tracing is off.
        tracer: trace.Tracer | None = getattr(scope["app"].state, "tracer", None)
        try:
            if tracer is None:
                await self.app(scope, receive, send_with_id)
                return
            with tracer.start_as_current_span(
                f"{scope['method']} request",
                kind=SpanKind.SERVER,
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                span.set_attribute("http.request.method", scope["method"])
                span.set_attribute("request_id", current)
                try:
                    await self.app(scope, receive, send_with_id)
                finally:
                    # Named by the route's template, never the raw path (it can hold codes of households).
                    template = route_template(scope)
                    span.update_name(f"{scope['method']} {template}")
                    span.set_attribute("http.route", template)
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
        finally:
            request_id.reset(token)
