"""ASGI middleware: request latency and refusals per route template (never per raw path, whose
codes would make a series per household), in the process's Prometheus registry. Outside the
error handling, so a 500 or 503 it answers is counted too."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import Receive, Scope

from services.api.http_middleware import Answer, HttpMiddleware
from services.api.operations.routes_seen import route_template

REQUEST_SECONDS = Histogram(
    "api_request_duration_seconds",
    "Time to answer an API request, by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
REQUEST_ERRORS = Counter(
    "api_request_errors",
    "API answers with a 4xx or 5xx status, by route template and status",
    ["method", "route", "status"],
)


class RequestMetrics(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, answer: Answer) -> None:
        started = time.perf_counter()
        try:
            await self.app(scope, receive, answer)
        finally:
            method, route, status = scope["method"], route_template(scope), answer.status or 500
            REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - started)
            if status >= 400:
                REQUEST_ERRORS.labels(method, route, str(status)).inc()
