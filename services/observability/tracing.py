"""OpenTelemetry traces: API request → workflow → activity, one trace per request.

The API's middleware opens the request's span (services/api/operations/request_context.py);
Temporal's TracingInterceptor, on the API's client and the worker, carries its context in a
Temporal header and opens the workflow, update and activity spans under it. Off unless
OTEL_EXPORTER_OTLP_ENDPOINT is set; spans then go out in batches over OTLP/HTTP. Spans carry
route templates, workflow and activity types and ids: no request data."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanProcessor
from temporalio.contrib.opentelemetry import TracingInterceptor

from services.settings import Settings

TRACER_NAME = "services"


def tracer_provider(settings: Settings, processor: SpanProcessor | None = None) -> TracerProvider | None:
    """The process's provider: exporting to the configured OTLP endpoint, or through `processor`
    (a test's in-memory exporter); None when tracing is off."""
    if processor is None and not settings.otel_exporter_otlp_endpoint:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
    if processor is None:
        exporter: SpanExporter = OTLPSpanExporter(
            endpoint=f"{settings.otel_exporter_otlp_endpoint.rstrip('/')}/v1/traces"  # type: ignore[union-attr]
        )
        processor = BatchSpanProcessor(exporter)
    provider.add_span_processor(processor)
    return provider


def tracer(provider: TracerProvider | None) -> trace.Tracer | None:
    return provider.get_tracer(TRACER_NAME) if provider is not None else None


def tracing_interceptors(provider: TracerProvider | None) -> list[TracingInterceptor]:
    """For the Temporal client (the worker takes it from its client): nothing when tracing is off."""
    return [TracingInterceptor(provider.get_tracer(TRACER_NAME))] if provider is not None else []
