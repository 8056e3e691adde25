"""The Temporal SDK's own metrics from the worker, for Prometheus: activity and workflow task
latencies (`temporal_activity_execution_latency`, `temporal_workflow_task_execution_latency`,
`temporal_activity_schedule_to_start_latency`, …) and failures (`temporal_activity_execution_failed`,
`temporal_workflow_task_execution_failed`, …), labelled by task queue and activity or workflow type.
The SDK's core serves them itself on WORKER_METRICS_ADDRESS; the worker's client connects with
this runtime."""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from services.settings import Settings


def temporal_runtime(settings: Settings) -> Runtime | None:
    """A runtime exporting metrics on the configured address, or None (the SDK's default runtime)."""
    if not settings.worker_metrics_address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=settings.worker_metrics_address)))
