"""What the observability middlewares cost a request: the API app answering GET /healthz in
process (no server, no database: the route touches neither), with and without the request id,
metrics and span middlewares, phases alternating (bare, observed, observed+tracing, ... reversed)
in the same run, twice. /healthz is the cheapest route, so the ratio is the worst case; the
figure that matters is the absolute cost per request. Target: ≤ 0.25 ms per request for the
request id and metrics (a signed-in request costs milliseconds: a database read at least).

    uv run python bench/observability_overhead.py [--requests 3000]

Figures go to bench/results/observability_overhead.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.api.app import create_app  # noqa: E402
from services.api.operations.request_context import RequestContext  # noqa: E402
from services.api.operations.request_metrics import RequestMetrics  # noqa: E402
from services.settings import Settings  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "observability_overhead.json"
SHAPES = ("bare", "observed", "observed_tracing")


def app_for(shape: str) -> FastAPI:
    app = create_app(Settings(environment="test", database_url="postgresql+asyncpg://bench@unused/none"))
    if shape == "bare":
        app.user_middleware = [m for m in app.user_middleware if m.cls not in (RequestContext, RequestMetrics)]
    if shape == "observed_tracing":
        provider = TracerProvider()
        exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        app.state.tracer = provider.get_tracer("bench")
    return app


async def _get(app: FastAPI, path: str) -> int:
    """One request straight through the ASGI app (no HTTP client: its cost would hide the middlewares')."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 40000),
        "server": ("bench", 80),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def rate(app: FastAPI, requests: int) -> float:
    for _ in range(50):  # warm-up (the middleware stack is built on the first request)
        await _get(app, "/healthz")
    started = time.perf_counter()
    for _ in range(requests):
        assert await _get(app, "/healthz") == 200
    return requests / (time.perf_counter() - started)


async def main(requests: int) -> dict[str, object]:
    apps = {shape: app_for(shape) for shape in SHAPES}
    rates: dict[str, list[float]] = {shape: [] for shape in SHAPES}
    for order in (SHAPES, tuple(reversed(SHAPES))) * 2:
        for shape in order:
            rates[shape].append(await rate(apps[shape], requests))
    mean = {shape: sum(r) / len(r) for shape, r in rates.items()}
    return {
        "requests_per_phase": requests,
        "requests_per_second": mean,
        "observed_vs_bare": mean["observed"] / mean["bare"],
        "observed_tracing_vs_bare": mean["observed_tracing"] / mean["bare"],
        "per_request_overhead_us": {
            shape: (1 / mean[shape] - 1 / mean["bare"]) * 1e6 for shape in ("observed", "observed_tracing")
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    figures = asyncio.run(main(parser.parse_args().requests))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
