"""ASGI middleware, outermost: each request gets its request id (services/observability/request_ids.py),
answered in `X-Request-ID` and set for every log line and Temporal call the request makes, and, when
tracing is on, one server span that the workflow and activity spans of the request hang from."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from services.api.http_middleware import Answer, HttpMiddleware
from services.api.operations.routes_seen import route_template
from services.observability.request_ids import HEADER, accepted_or_new, request_id


class RequestContext(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, answer: Answer) -> None:
        current = accepted_or_new(Headers(scope=scope).get(HEADER))
        answer.headers[HEADER] = current
        token = request_id.set(current)
        # Set by the app's lifespan (services/api/app.py): None when tracing is off.
        tracer: trace.Tracer | None = getattr(scope["app"].state, "tracer", None)
        try:
            if tracer is None:
                await self.app(scope, receive, answer)
            else:
                await self._traced(tracer, current, scope, receive, answer)
        finally:
            request_id.reset(token)

    async def _traced(self, tracer: trace.Tracer, current: str, scope: Scope, receive: Receive, answer: Answer) -> None:
        # No exception text on the span: it can hold a refused value (services/api/server_errors.py).
        with tracer.start_as_current_span(
            f"{scope['method']} request", kind=SpanKind.SERVER, record_exception=False, set_status_on_exception=False
        ) as span:
            span.set_attribute("http.request.method", scope["method"])
            span.set_attribute("request_id", current)
            try:
                await self.app(scope, receive, answer)
            finally:
                # Named by the route's template, never the raw path (it can hold codes of households).
                template, status = route_template(scope), answer.status or 500
                span.update_name(f"{scope['method']} {template}")
                span.set_attribute("http.route", template)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
