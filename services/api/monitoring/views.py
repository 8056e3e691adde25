"""What readers see of a monitoring period: the workflow's state with Chinese labels, its
open tasks and the exit assessment, masked for readers who do not need personal data."""

from __future__ import annotations

from typing import Any

from services.api.access import sees_personal_data
from services.api.monitoring.schemas import MonitoringSummary, VisitTaskView, VisitView
from services.db.tables import Account, MonitoringRecord, VisitRecord, VisitTaskRecord
from services.domain.monitoring.procedure import EXIT_STEP_LABELS
from services.domain.monitoring.state import MonitoringState
from services.domain.monitoring.tasks import open_tasks
from services.domain.monitoring.vocabulary import (
    EXIT_OUTCOME_LABELS,
    MEASURE_KIND_LABELS,
    MEASURE_STATUS_LABELS,
    PLAN_STATUS_LABELS,
    VISIT_TASK_STATUS_LABELS,
    ExitOutcome,
    ExitStep,
    MeasureKind,
    MeasureStatus,
    PlanStatus,
    VisitTaskStatus,
)
from services.domain.personal_data import masked_copy
from services.domain.vocabulary import HOUSEHOLD_STATUS_LABELS, RISK_TYPE_LABELS, HouseholdStatus, RiskType


def monitoring_view(state: dict[str, Any], reader: Account) -> dict[str, Any]:
    """The full period for its detail page and action answers."""
    shown = state if sees_personal_data(reader, state["village_code"]) else masked_copy(state)
    view = {
        **shown,
        "status_label": HOUSEHOLD_STATUS_LABELS[HouseholdStatus(state["status"])],
        "risk_type_labels": [RISK_TYPE_LABELS[RiskType(r)] for r in state["risk_types"]],
        "tasks": [t.model_dump(mode="json") for t in open_tasks(MonitoringState.model_validate(state))],
    }
    for plan in view["plans"]:
        plan["status_label"] = PLAN_STATUS_LABELS[PlanStatus(plan["status"])]
        for measure in plan["measures"]:
            measure["kind_label"] = MEASURE_KIND_LABELS[MeasureKind(measure["kind"])]
            measure["status_label"] = MEASURE_STATUS_LABELS[MeasureStatus(measure["status"])]
    for task in view["visit_tasks"]:
        task["status_label"] = VISIT_TASK_STATUS_LABELS[VisitTaskStatus(task["status"])]
    for exit_ in view["exits"]:
        exit_["step_label"] = EXIT_STEP_LABELS[ExitStep(exit_["step"])]
        exit_["outcome_label"] = EXIT_OUTCOME_LABELS[ExitOutcome(exit_["outcome"])] if exit_["outcome"] else None
    return view


def monitoring_summary(record: MonitoringRecord, head_name: str) -> MonitoringSummary:
    status = HouseholdStatus(record.status)
    return MonitoringSummary(
        monitoring_id=record.monitoring_id,
        household_code=record.household_code,
        head_name=head_name,
        village_code=record.village_code,
        status=status,
        status_label=HOUSEHOLD_STATUS_LABELS[status],
        since=record.since,
        support_person=record.support_person,
        exit_step=record.exit_step,
        exit_step_label=EXIT_STEP_LABELS[ExitStep(record.exit_step)] if record.exit_step else None,
        exit_eligible=record.exit_eligible,
        risk_eliminated_at=record.risk_eliminated_at,
        tasks=record.tasks,
    )


def visit_task_view(task: VisitTaskRecord, head_name: str) -> VisitTaskView:
    return VisitTaskView(
        **task.model_dump(exclude={"last_seq"}),
        head_name=head_name,
        status_label=VISIT_TASK_STATUS_LABELS[VisitTaskStatus(task.status)],
    )


def visit_view(visit: VisitRecord, reader: Account) -> VisitView:
    shown = visit.model_dump()
    return VisitView.model_validate(shown if sees_personal_data(reader, visit.village_code) else masked_copy(shown))
