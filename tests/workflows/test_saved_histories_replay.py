"""Runs already in flight when the workflow code changes must replay unchanged: each history in
histories/ (`<workflow>_<revision>_<scenario>.json`, recorded with that revision's code) replays
against the current code without a non-determinism error.

- identification: the departments' cross-check answered by the simulator, an objection upheld, a
  request recorded by hand (`record_identification_history.py` records more);
- monitoring: a period through support, visits, the whole exit with an objection, and its reversal,
  with every Update taking separate arguments as it did then;
- self_report: an application accepted (its case opened), before the patch baseline and on it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from services.settings import Settings
from services.temporal_client import data_converter
from services.workflows.identification import IdentificationWorkflow
from services.workflows.monitoring import MonitoringWorkflow
from services.workflows.self_report import SelfReportWorkflow

WORKFLOWS: dict[str, type] = {
    "identification": IdentificationWorkflow,
    "monitoring": MonitoringWorkflow,
    "self_report": SelfReportWorkflow,
}
HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _workflow_of(path: Path) -> type:
    return next(cls for name, cls in WORKFLOWS.items() if path.stem.startswith(f"{name}_"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    settings = Settings(environment="test", database_url="unused", temporal_address="unused")
    replayer = Replayer(workflows=[_workflow_of(path)], data_converter=data_converter(settings))
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


def test_every_workflow_has_histories() -> None:
    assert {name for name in WORKFLOWS for p in HISTORIES if p.stem.startswith(f"{name}_")} == set(WORKFLOWS)
