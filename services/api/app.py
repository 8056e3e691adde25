"""The FastAPI application.

uv run uvicorn services.api.app:app --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client

from services.api import health_routes
from services.api.admin_safety import routes as admin_safety_routes
from services.api.case_changes import CaseChanges
from services.api.departments import inbound_routes, registry_routes, work_routes
from services.api.deps import AppResources
from services.api.documents import routes as document_routes
from services.api.errors import ERROR_RESPONSES, ErrorModelApp, install_error_handlers
from services.api.evidence import routes as evidence_routes
from services.api.identification import routes as identification_routes
from services.api.monitoring import action_routes as monitoring_action_routes
from services.api.monitoring import routes as monitoring_routes
from services.api.operations import codec_routes, metrics_routes
from services.api.operations.codec_cors import CodecCors
from services.api.operations.request_context import RequestContext
from services.api.operations.request_metrics import RequestMetrics
from services.api.people import account_routes, audit_routes, auth_routes, follow_up_routes
from services.api.province import routes as province_routes
from services.api.registry import household_file_routes, household_routes, notice_routes, reference_routes
from services.api.reports import kept_routes, roster_routes, statistics_routes
from services.api.request_guards import BodyGuard, check_parameters
from services.api.screening import routes as screening_routes
from services.api.self_reports import household_routes as self_service_routes
from services.api.self_reports import staff_routes as self_report_routes
from services.api.server_errors import ServerErrors
from services.api.tasks import routes as task_routes
from services.db.engine import create_engine, session_factory
from services.observability.tracing import tracer, tracer_provider
from services.settings import Settings, get_settings
from services.temporal_client import connect
from services.web import routes as web_routes


def create_app(
    settings: Settings | None = None, temporal: Client | None = None, tracing: TracerProvider | None = None
) -> FastAPI:
    """`temporal` lets tests pass a client of their own Temporal server, `tracing` a tracer provider
    of their own (that client then carries its TracingInterceptor)."""

    resolved = settings or get_settings()  # here, not in the lifespan: the body guard needs its import limit

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        provider = tracing or tracer_provider(resolved)
        app.state.tracer = tracer(provider)
        engine = create_engine(resolved.require_database_url())
        client = temporal or await connect(resolved, tracing=provider)
        case_changes = CaseChanges(engine)
        app.state.resources = AppResources(resolved, engine, session_factory(engine), client, case_changes)
        case_changes.start()
        try:
            yield
        finally:
            await case_changes.stop()
            await engine.dispose()
            if provider is not None and tracing is None:
                provider.shutdown()  # sends the spans still batched

    app = ErrorModelApp(
        title="防止返贫动态监测和帮扶 · 识别认定与监测帮扶服务",
        version="0.1.0",
        description="Cases and monitoring periods run as Temporal workflows; every step is an action on one. "
        "See README.md.",
        lifespan=lifespan,
        dependencies=[Depends(check_parameters)],
        responses=ERROR_RESPONSES,
    )
    install_error_handlers(app)
    # Bodies too large, too deep or not UTF-8, refused before parsing; an import upload past its file limit.
    app.add_middleware(BodyGuard, import_max_bytes=resolved.import_max_bytes)
    app.add_middleware(ServerErrors)  # what no route answered, documented shape, values kept out of logs
    app.add_middleware(CodecCors)  # the Temporal UI's origin, on the codec's paths only
    app.add_middleware(RequestMetrics)  # outside the error handling: its 500s and 503s count
    app.add_middleware(RequestContext)  # outermost: the request id (and span) covers everything
    for routes in (
        health_routes,
        auth_routes,
        household_routes,
        household_file_routes,
        identification_routes,
        monitoring_routes,
        monitoring_action_routes,
        reference_routes,
        registry_routes,
        work_routes,
        inbound_routes,
        self_report_routes,
        self_service_routes,
        account_routes,
        follow_up_routes,
        task_routes,
        audit_routes,
        notice_routes,
        admin_safety_routes,
        metrics_routes,
        codec_routes,
        roster_routes,
        statistics_routes,
        kept_routes,
        screening_routes,
    ):
        app.include_router(routes.router)
    app.include_router(document_routes.households)
    app.include_router(document_routes.villages)
    app.include_router(province_routes.router)
    app.include_router(evidence_routes.router)
    app.include_router(web_routes.router)  # the workbench's pages (工作台) under /

    return app


app = create_app()
