"""What a monitoring period waits for, and from whom: the inbox entries of the read model.

Derived from the state alone, so the read model (for inboxes) and the detail view
always agree. A task names the role that acts and, where only the support person
may act, that person.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.domain.monitoring.procedure import MONITORING
from services.domain.monitoring.state import MonitoringState
from services.domain.monitoring.vocabulary import (
    TASK_LABELS,
    ExitStep,
    MeasureStatus,
    MonitoringAction,
    PlanStatus,
    TaskKind,
    VisitTaskStatus,
)
from services.domain.vocabulary import Role


class Task(BaseModel):
    kind: TaskKind
    label: str
    role: Role
    assignee: str | None = None
    due_at: datetime | None = None
    detail: str = ""


def open_tasks(state: MonitoringState) -> list[Task]:
    if not state.is_monitored:
        return []
    person = state.support_person
    mine = person.username if person else None
    tasks: list[Task] = []
    if person is None:
        tasks.append(_task(TaskKind.appoint_support_person, Role.township_approver))
    plan = state.current_plan
    if plan is not None and plan.status == PlanStatus.submitted:
        tasks.append(_task(TaskKind.review_plan, Role.township_approver, detail=f"第{plan.plan_no}版"))
    elif person is not None and (plan is None or state.plan_revision_due):
        detail = "新风险已认定，请修订计划" if state.plan_revision_due else ""
        tasks.append(_task(TaskKind.draft_plan, Role.village_cadre, mine, detail=detail))
    if person is not None and any(m.status == MeasureStatus.in_progress for m in state.measures()):
        tasks.append(_task(TaskKind.deliver_measures, Role.village_cadre, mine))
    for visit in state.visit_tasks:
        if visit.status == VisitTaskStatus.open:
            tasks.append(_task(TaskKind.visit, Role.village_cadre, due_at=visit.due_at, detail=visit.period))
    # Escalation: the last period was missed and this one has no visit yet.
    if (
        len(state.visit_tasks) >= 2
        and state.visit_tasks[-2].status == VisitTaskStatus.overdue
        and state.visit_tasks[-1].status == VisitTaskStatus.open
    ):
        tasks.append(_task(TaskKind.visit_overdue, Role.township_approver, detail=state.visit_tasks[-2].period))
    exit_ = state.open_exit
    if exit_ is None and state.assessment is not None and state.assessment.eligible and person is not None:
        tasks.append(_task(TaskKind.propose_exit, Role.village_cadre, mine))
    if exit_ is not None:
        waiting = exit_.step != ExitStep.village_notice or (exit_.notice and exit_.notice.pending_objections)
        rule = MONITORING.completing(exit_.step) or MONITORING.action(MonitoringAction.resolve_exit_objection)
        if waiting:
            tasks.append(_task(TaskKind.exit_step, rule.role, detail=MONITORING.step(exit_.step).label))
    return tasks


def _task(
    kind: TaskKind, role: Role, assignee: str | None = None, due_at: datetime | None = None, detail: str = ""
) -> Task:
    return Task(kind=kind, label=TASK_LABELS[kind], role=role, assignee=assignee, due_at=due_at, detail=detail)
