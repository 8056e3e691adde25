"""Cases already in flight when the workflow code changes must replay unchanged: histories
recorded with earlier revisions of IdentificationWorkflow (see histories/) replay against
the current code without a non-determinism error."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from services.settings import Settings
from services.temporal_client import data_converter
from services.workflows.identification import IdentificationWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("identification_*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    settings = Settings(environment="test", database_url="unused", temporal_address="unused")
    replayer = Replayer(workflows=[IdentificationWorkflow], data_converter=data_converter(settings))
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


def test_histories_are_there() -> None:
    assert len(HISTORIES) >= 2
