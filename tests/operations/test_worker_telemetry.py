"""Traces and the Temporal SDK's metrics, with the production wiring: a client from
`services.temporal_client.connect` (request ids, TracingInterceptor, a runtime serving Prometheus),
a worker on its own task queue taking its interceptors from that client, and the API with the
same tracer provider. One API request is one trace: the request's span, the workflow's, the
update's and the activity's; the worker's port serves activity and workflow task latencies and
failures by type."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest_asyncio
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from services.api.app import create_app
from services.demo_case import VILLAGE_CADRE, CaseDriver
from services.department_simulator.client import SimulatorClient
from services.devstack.servers import free_port
from services.observability.tracing import tracer_provider
from services.observability.worker_metrics import temporal_runtime
from services.settings import Settings
from services.temporal_client import connect
from services.workers.main import running_worker
from tests.applicants import eventually
from tests.conftest import driver_for, new_household_body
from tests.departments.signed import authorised_case

TASK_QUEUE = "obs-telemetry"


@dataclass
class Instrumented:
    driver: CaseDriver
    spans: InMemorySpanExporter
    metrics_url: str


@pytest_asyncio.fixture(scope="module")
async def instrumented(
    settings: Settings, temporal: WorkflowEnvironment, simulator: SimulatorClient
) -> AsyncIterator[Instrumented]:
    spans = InMemorySpanExporter()
    metrics_address = f"127.0.0.1:{free_port()}"
    own = settings.model_copy(
        update={
            "temporal_task_queue": TASK_QUEUE,
            "temporal_address": temporal.client.service_client.config.target_host,
            "worker_metrics_address": metrics_address,
        }
    )
    provider = tracer_provider(own, SimpleSpanProcessor(spans))
    assert isinstance(provider, TracerProvider)
    client = await connect(own, tracing=provider, runtime=temporal_runtime(own))
    app = create_app(own, temporal=client, tracing=provider)
    async with running_worker(client, own), app.router.lifespan_context(app), driver_for(app) as driver:
        yield Instrumented(driver, spans, f"http://{metrics_address}/metrics")
    provider.shutdown()


async def _household(driver: CaseDriver) -> tuple[str, list[str]]:
    """A new household's code and its members' ID numbers."""
    body = new_household_body()
    answer = await driver.post(VILLAGE_CADRE, "/api/v1/households", body)
    assert answer.status_code == 201, answer.text
    return answer.json()["code"], [m["id_number"] for m in body["members"]]


def _trace_of(spans: list[ReadableSpan], root_name: str) -> tuple[ReadableSpan, list[ReadableSpan]]:
    (root,) = [s for s in spans if s.name == root_name]
    assert root.context is not None
    return root, [s for s in spans if s.context is not None and s.context.trace_id == root.context.trace_id]


async def test_one_request_is_one_trace_through_workflow_and_activity(instrumented: Instrumented) -> None:
    driver = instrumented.driver
    code, id_numbers = await _household(driver)
    instrumented.spans.clear()
    answer = await driver.post(
        VILLAGE_CADRE, "/api/v1/cases", {"household_code": code, "channel": "cadre_screening", "lead_note": "走访发现"}
    )
    assert answer.status_code == 201, answer.text

    root, trace = _trace_of(list(instrumented.spans.get_finished_spans()), "POST /api/v1/cases")
    names = {s.name for s in trace}
    assert {
        "StartWorkflow:IdentificationWorkflow",
        "RunWorkflow:IdentificationWorkflow",
        "StartActivity:record_case_event",
        "RunActivity:record_case_event",
        "StartWorkflowUpdate:opened",
        "HandleUpdate:opened",
    } <= names, names
    assert root.parent is None and root.attributes is not None
    assert root.attributes["http.route"] == "/api/v1/cases"
    assert root.attributes["request_id"] == answer.headers["X-Request-ID"]
    # Every span of the trace hangs from the request's: none is an orphan of another trace.
    by_id = {s.context.span_id: s for s in trace if s.context is not None}
    for span in trace:
        while span.parent is not None:
            span = by_id[span.parent.span_id]
        assert span is root
    # Spans name route templates and workflow ids, never personal data.
    assert root.name == "POST /api/v1/cases"
    assert not [s for s in trace if any(n in f"{s.name} {dict(s.attributes or {})}" for n in id_numbers)]


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples]


async def test_the_worker_serves_the_sdk_metrics_of_activities_and_workflow_tasks(
    instrumented: Instrumented, departments: SimulatorClient
) -> None:
    # A department that fails its first request makes one activity attempt fail (and retry).
    await departments.behave("real_estate", fail_next=1, fail_status=503)
    await authorised_case(instrumented.driver, (await _household(instrumented.driver))[0])

    async def scrape() -> list[tuple[str, dict[str, str], float]]:
        async with httpx.AsyncClient(timeout=10) as http:
            return _samples((await http.get(instrumented.metrics_url)).text)

    def count(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
        return sum(v for n, lab, v in samples if n == name and labels.items() <= lab.items())

    samples = await eventually(
        scrape,
        lambda s: count(s, "temporal_activity_execution_failed_total", activity_type="send_cross_check_request") > 0,
    )
    ours = {"task_queue": TASK_QUEUE}
    assert count(samples, "temporal_activity_execution_latency_count", activity_type="plan_cross_check", **ours) >= 1
    # Records are local activities (services/workflows/procedure.py): the SDK counts them apart.
    records = count(
        samples, "temporal_local_activity_execution_latency_count", activity_type="record_case_event", **ours
    )
    assert records >= 3
    assert (
        count(samples, "temporal_workflow_task_execution_latency_count", workflow_type="IdentificationWorkflow", **ours)
        > 0
    )
    assert (
        count(samples, "temporal_activity_execution_failed_total", activity_type="send_cross_check_request", **ours)
        >= 1
    )
