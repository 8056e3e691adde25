"""Reading what a workflow's history shows: the activities it ran and the signals it sent."""

from __future__ import annotations

from typing import Any

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client


async def history_events(client: Client, workflow_id: str) -> list[HistoryEvent]:
    """The events of the workflow's latest run."""
    return list((await client.get_workflow_handle(workflow_id).fetch_history()).events)


async def activity_runs(
    client: Client, events: list[HistoryEvent], activity_type: str, input_type: type, result_type: type
) -> list[tuple[Any, Any]]:
    """(input, result) of each run of the activity in the history; result None while it has not completed."""
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == activity_type
    }
    results: dict[int, Any] = {}
    for e in events:
        if e.HasField("activity_task_completed_event_attributes"):
            done = e.activity_task_completed_event_attributes
            if done.scheduled_event_id in scheduled:
                [results[done.scheduled_event_id]] = await client.data_converter.decode(
                    list(done.result.payloads), [result_type]
                )
    runs = []
    for event_id, attributes in scheduled.items():
        [given] = await client.data_converter.decode(list(attributes.input.payloads), [input_type])
        runs.append((given, results.get(event_id)))
    return runs


def signals_sent(events: list[HistoryEvent]) -> list[tuple[str, str]]:
    """(workflow id, signal name) of each signal the workflow sent another."""
    return [
        (a.workflow_execution.workflow_id, a.signal_name)
        for e in events
        if e.HasField("signal_external_workflow_execution_initiated_event_attributes")
        for a in [e.signal_external_workflow_execution_initiated_event_attributes]
    ]


def signals_received(events: list[HistoryEvent]) -> list[str]:
    return [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in events
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]
