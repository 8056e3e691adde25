"""Reading what a workflow's history shows: the local activities it ran and the signals it sent."""

from __future__ import annotations

import json
from typing import Any

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client


async def history_events(client: Client, workflow_id: str) -> list[HistoryEvent]:
    """The events of the workflow's latest run."""
    return list((await client.get_workflow_handle(workflow_id).fetch_history()).events)


async def local_activity_results(
    client: Client, events: list[HistoryEvent], activity_type: str, result_type: type
) -> list[Any]:
    """The result of each completed run of the local activity in the history (its marker keeps the
    result, not the input)."""
    results = []
    for e in events:
        marker = e.marker_recorded_event_attributes
        if not e.HasField("marker_recorded_event_attributes") or marker.marker_name != "core_local_activity":
            continue
        if json.loads(marker.details["data"].payloads[0].data).get("activity_type") != activity_type:
            continue
        [result] = await client.data_converter.decode(list(marker.details["result"].payloads), [result_type])
        results.append(result)
    return results


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


def patch_markers(events: list[HistoryEvent]) -> list[str]:
    """The id of each patch marker (`workflow.patched`) in the history, in order."""
    return [
        json.loads(marker.details["patch-data"].payloads[0].data)["id"]
        for e in events
        if e.HasField("marker_recorded_event_attributes")
        for marker in [e.marker_recorded_event_attributes]
        if marker.marker_name == "core_patch"
    ]


def search_attribute_upserts(events: list[HistoryEvent]) -> list[set[str]]:
    """The names of the search attributes each upsert in the history set."""
    return [
        set(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
        for e in events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
    ]
