"""What a monitoring period waits for, and from whom: the inbox entries of the read model.

Derived from the state alone, so the read model (for inboxes) and the detail view
always agree. A task names the role that acts and, where only the support person
may act, that person. `monitoring_tasks` turns the same entries into rows of the
one task inbox (services/domain/tasks.py), each keyed by the occurrence of its wait.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

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
from services.domain.tasks import TaskSpec, area_for, attention_tasks, exit_task_step
from services.domain.vocabulary import Role


class Task(BaseModel):
    kind: TaskKind
    label: str
    role: Role
    assignee: str | None = None
    due_at: datetime | None = None
    detail: str = ""
    # For the task inbox only (not part of the period's answer): which occurrence of the wait this
    # is, the action that ends it, the part of the period it concerns and its step in the inbox.
    occurrence: str = Field(default="", exclude=True)
    action: MonitoringAction | None = Field(default=None, exclude=True)
    subject: str | None = Field(default=None, exclude=True)
    step: str = Field(default="", exclude=True)
    deadline: datetime | None = Field(default=None, exclude=True)  # when the inbox shows it due, if not `due_at`


def open_tasks(state: MonitoringState) -> list[Task]:
    if not state.is_monitored:
        return []
    person = state.support_person
    mine = person.username if person else None
    plans = len(state.plans)
    tasks: list[Task] = []
    if person is None:
        tasks.append(_task(TaskKind.appoint_support_person, Role.township_approver, "appoint"))
    plan = state.current_plan
    if plan is not None and plan.status == PlanStatus.submitted:
        tasks.append(
            _task(
                TaskKind.review_plan,
                Role.township_approver,
                f"plan:{plan.plan_no}",
                detail=f"第{plan.plan_no}版",
                subject=str(plan.plan_no),
            )
        )
    elif person is not None and (plan is None or state.plan_revision_due):
        detail = "新风险已认定，请修订计划" if state.plan_revision_due else ""
        tasks.append(_task(TaskKind.draft_plan, Role.four_teams, f"draft:{plans}:{mine}", mine, detail=detail))
    if person is not None and any(m.status == MeasureStatus.in_progress for m in state.measures()):
        tasks.append(_task(TaskKind.deliver_measures, Role.four_teams, f"measures:{plans}:{mine}", mine))
    for visit in state.visit_tasks:
        if visit.status == VisitTaskStatus.open:
            tasks.append(
                _task(
                    TaskKind.visit,
                    Role.four_teams,
                    f"visit:{visit.period}",
                    due_at=visit.due_at,
                    detail=visit.period,
                    subject=visit.period,
                )
            )
    # Escalation: the last period was missed and this one has no visit yet.
    if (
        len(state.visit_tasks) >= 2
        and state.visit_tasks[-2].status == VisitTaskStatus.overdue
        and state.visit_tasks[-1].status == VisitTaskStatus.open
    ):
        missed = state.visit_tasks[-2].period
        escalation = _task(TaskKind.visit_overdue, Role.township_approver, f"missed:{missed}", detail=missed)
        # The township sees to it that this period's visit is made in time.
        escalation.deadline = state.visit_tasks[-1].due_at
        tasks.append(escalation)
    exit_ = state.open_exit
    if exit_ is None and state.assessment is not None and state.assessment.eligible and person is not None:
        started = state.clock_started_at.isoformat()
        occurrence = f"propose:{len(state.exits)}:{started}:{mine}"
        tasks.append(_task(TaskKind.propose_exit, Role.four_teams, occurrence, mine))
    if exit_ is not None:
        pending = exit_.notice.pending_objections if exit_.notice else []
        waiting = exit_.step != ExitStep.village_notice or pending
        rule = MONITORING.completing(exit_.step) or MONITORING.action(MonitoringAction.resolve_exit_objection)
        if waiting:
            task = _task(
                TaskKind.exit_step,
                rule.role,
                f"exit:{exit_.exit_no}:{exit_.verification_round}:{exit_.step}",
                detail=MONITORING.step(exit_.step).label,
            )
            task.step = exit_task_step(exit_.step)
            if pending and exit_.notice is not None:
                # At the notice, what waits is the verification of its objections.
                task.action, task.deadline = MonitoringAction.resolve_exit_objection, exit_.notice.ends_at
            else:
                task.action = rule.action
            tasks.append(task)
    return tasks


_ACTIONS = {
    TaskKind.appoint_support_person: MonitoringAction.appoint_support_person,
    TaskKind.review_plan: MonitoringAction.review_plan,
    TaskKind.draft_plan: MonitoringAction.submit_plan,
    TaskKind.deliver_measures: MonitoringAction.deliver_measure,
    TaskKind.visit: MonitoringAction.record_visit,
    TaskKind.propose_exit: MonitoringAction.propose_exit,
}


def _task(
    kind: TaskKind,
    role: Role,
    occurrence: str,
    assignee: str | None = None,
    due_at: datetime | None = None,
    detail: str = "",
    subject: str | None = None,
) -> Task:
    return Task(
        kind=kind,
        label=TASK_LABELS[kind],
        role=role,
        assignee=assignee,
        due_at=due_at,
        detail=detail,
        occurrence=occurrence,
        action=_ACTIONS.get(kind),
        subject=subject,
        step=str(kind),
    )


def monitoring_tasks(state: MonitoringState) -> list[TaskSpec]:
    """The rows of the task inbox this period's state implies: its open tasks and the actions
    PostgreSQL refused to store (while the household is monitored)."""
    areas = (state.county_code, state.township_code, state.village_code)
    return [
        *(
            TaskSpec(
                key=f"{state.monitoring_id}:{task.occurrence}",
                step=task.step,
                action=task.action,
                subject=task.subject,
                role=task.role,
                area_code=area_for(task.role, *areas),
                due_at=task.deadline or task.due_at,
                title=_title(task),
                detail={
                    "kind": task.kind,
                    **({"note": task.detail} if task.detail else {}),
                    **({"assignee": task.assignee} if task.assignee else {}),
                },
            )
            for task in open_tasks(state)
        ),
        *(attention_tasks(state.monitoring_id, state.needs_attention, state.county_code) if state.is_monitored else []),
    ]


def _title(task: Task) -> str:
    if task.kind == TaskKind.exit_step:
        return f"风险消除：{task.detail}"
    return f"{task.label}（{task.detail}）" if task.detail else task.label
