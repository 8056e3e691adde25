"""The names activities use to reach a workflow (services/workflows/contracts.py) are the workflows' own."""

from __future__ import annotations

from temporalio.workflow import _Definition

from services.workflows.contracts import (
    CASE_CLOSED,
    IDENTIFICATION_CONCLUDED,
    IDENTIFICATION_OPENED,
    MONITORING_WORKFLOW,
)
from services.workflows.monitoring import MonitoringWorkflow
from services.workflows.self_report import SelfReportWorkflow


def test_contract_names_are_the_workflows_names() -> None:
    monitoring = _Definition.must_from_class(MonitoringWorkflow)
    assert monitoring.name == MONITORING_WORKFLOW
    assert {IDENTIFICATION_OPENED, IDENTIFICATION_CONCLUDED} <= set(monitoring.signals)
    assert CASE_CLOSED in _Definition.must_from_class(SelfReportWorkflow).signals
