"""Monitoring periods already running when the workflow code changes must replay unchanged:
histories recorded with earlier revisions of MonitoringWorkflow (see histories/; the exit one
walks support, visits, the whole exit with an objection, and its reversal, with every Update
taking separate arguments as it did then) replay against the current code."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from services.settings import Settings
from services.temporal_client import data_converter
from services.workflows.monitoring import MonitoringWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("monitoring_*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    settings = Settings(environment="test", database_url="unused", temporal_address="unused")
    replayer = Replayer(workflows=[MonitoringWorkflow], data_converter=data_converter(settings))
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


def test_histories_are_there() -> None:
    assert HISTORIES
