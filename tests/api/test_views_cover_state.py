"""The typed answers of a case and a monitoring period name every field their workflow's state
holds: a field added to the state and not to its view would silently vanish from the answer."""

from __future__ import annotations

from services.api.identification.schemas import CaseLabels, CaseView
from services.api.monitoring.schemas import MonitoringView
from services.domain.identification.state import CaseState
from services.domain.monitoring.state import MonitoringState

MONITORING_ADDITIONS = {"status_label", "risk_type_labels", "tasks"}


def _state_fields(model: type[CaseState] | type[MonitoringState]) -> set[str]:
    return set(model.model_fields) | set(model.model_computed_fields)


def test_the_case_view_is_the_state_with_its_labels() -> None:
    assert set(CaseView.model_fields) == _state_fields(CaseState) | set(CaseLabels.model_fields)


def test_the_monitoring_view_is_the_state_with_its_labels_and_tasks() -> None:
    assert set(MonitoringView.model_fields) == _state_fields(MonitoringState) | MONITORING_ADDITIONS
