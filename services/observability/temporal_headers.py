"""The request id travels with what a request asks of Temporal, in a Temporal header: from the API's
client into the workflow (its start, updates and signals), from the workflow into the activities,
child workflows and signals it sends, and from an activity into what it starts through the client.
Activities set it for their log lines and log one line each when they end, so a case's steps can
be followed in the worker's log by the request that caused them.

Headers are not encrypted (HeaderCodecBehavior.NO_CODEC): the id carries nothing personal
(services/observability/request_ids.py accepts only plain ids)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from temporalio import activity, client, worker
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter

from services.observability.request_ids import request_id

HEADER_KEY = "request-id"


def _with_id(headers: Mapping[str, Payload]) -> Mapping[str, Payload]:
    current = request_id.get()
    if current is None or HEADER_KEY in headers:
        return headers
    return {**headers, HEADER_KEY: PayloadConverter.default.to_payload(current)}


def _id_in(headers: Mapping[str, Payload]) -> str | None:
    payload = headers.get(HEADER_KEY)
    return PayloadConverter.default.from_payload(payload, str) if payload is not None else None


def _adopt(headers: Mapping[str, Payload]) -> None:
    """Within this handler's task (and the tasks it creates), the request id is the header's."""
    found = _id_in(headers)
    if found is not None:
        request_id.set(found)


class _ClientOutbound(client.OutboundInterceptor):
    async def start_workflow(self, input: client.StartWorkflowInput) -> client.WorkflowHandle[Any, Any]:
        return await super().start_workflow(dataclasses.replace(input, headers=_with_id(input.headers)))

    async def signal_workflow(self, input: client.SignalWorkflowInput) -> None:
        await super().signal_workflow(dataclasses.replace(input, headers=_with_id(input.headers)))

    async def start_workflow_update(self, input: client.StartWorkflowUpdateInput) -> client.WorkflowUpdateHandle[Any]:
        return await super().start_workflow_update(dataclasses.replace(input, headers=_with_id(input.headers)))

    async def start_update_with_start_workflow(
        self, input: client.StartWorkflowUpdateWithStartInput
    ) -> client.WorkflowUpdateHandle[Any]:
        input.start_workflow_input.headers = _with_id(input.start_workflow_input.headers)
        input.update_workflow_input.headers = _with_id(input.update_workflow_input.headers)
        return await super().start_update_with_start_workflow(input)


class _WorkflowInbound(worker.WorkflowInboundInterceptor):
    def init(self, outbound: worker.WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound))

    async def execute_workflow(self, input: worker.ExecuteWorkflowInput) -> Any:
        _adopt(input.headers)
        return await super().execute_workflow(input)

    async def handle_signal(self, input: worker.HandleSignalInput) -> None:
        _adopt(input.headers)
        await super().handle_signal(input)

    async def handle_update_handler(self, input: worker.HandleUpdateInput) -> Any:
        _adopt(input.headers)
        return await super().handle_update_handler(input)


class _WorkflowOutbound(worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: worker.StartActivityInput) -> Any:
        return super().start_activity(dataclasses.replace(input, headers=_with_id(input.headers)))

    def start_local_activity(self, input: worker.StartLocalActivityInput) -> Any:
        return super().start_local_activity(dataclasses.replace(input, headers=_with_id(input.headers)))

    async def start_child_workflow(self, input: worker.StartChildWorkflowInput) -> Any:
        return await super().start_child_workflow(dataclasses.replace(input, headers=_with_id(input.headers)))

    async def signal_external_workflow(self, input: worker.SignalExternalWorkflowInput) -> None:
        await super().signal_external_workflow(dataclasses.replace(input, headers=_with_id(input.headers)))


class _ActivityInbound(worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: worker.ExecuteActivityInput) -> Any:
        token = request_id.set(_id_in(input.headers))
        started = time.monotonic()
        outcome = "failed"
        try:
            result = await super().execute_activity(input)
            outcome = "completed"
            return result
        finally:
            # The activity's ids and type come with activity.logger; its arguments and errors never do.
            activity.logger.info("activity %s in %.0f ms", outcome, (time.monotonic() - started) * 1000)
            request_id.reset(token)


class RequestIdsToTemporal(client.Interceptor):
    """Client interceptor (the API's and the worker's client): sends the current request id along."""

    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        return _ClientOutbound(next)


class RequestIdsInWorker(worker.Interceptor):
    """Worker interceptor: workflows and activities take the request id from their headers and pass it on."""

    def workflow_interceptor_class(
        self, input: worker.WorkflowInterceptorClassInput
    ) -> type[worker.WorkflowInboundInterceptor]:
        return _WorkflowInbound

    def intercept_activity(self, next: worker.ActivityInboundInterceptor) -> worker.ActivityInboundInterceptor:
        return _ActivityInbound(next)
