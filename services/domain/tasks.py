"""Tasks: every step that waits on a person, as rows of one generic inbox.

A workflow's recorded state says which tasks are open; the activity that records the event
writes exactly those (services/workers/tasks.py) and closes the rest in the same transaction,
so a step that is done leaves every inbox at once. Any workflow can feed the inbox the same
way: derive its `TaskSpec`s from its state, with keys that name one occurrence of a wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from pydantic import BaseModel, Field

from services.domain import follow_up
from services.domain.form_fields import LAST_DAY
from services.domain.identification.escalation import STEP_ACTIONS, acting_area, current_step_escalation
from services.domain.identification.procedure import ACTION_RULES, STEP_LABELS
from services.domain.identification.state import CaseState, RefusedAction
from services.domain.monitoring.procedure import EXIT_STEP_LABELS
from services.domain.monitoring.vocabulary import TASK_LABELS, ExitStep
from services.domain.vocabulary import (
    CROSS_CHECK_STATUS_LABELS,
    DEPARTMENT_LABELS,
    NEEDS_OFFICER,
    ROLE_LABELS,
    Action,
    Role,
    Step,
)

ESCALATION = "escalation"
ATTENTION = "attention"
SELF_REPORT_ACCEPTANCE = "self_report_acceptance"


def exit_task_step(step: ExitStep) -> str:
    """The inbox's name for a step of the exit procedure (apart from identification's steps of the same name)."""
    return f"exit_{step}"


# What the inbox calls each kind of task (its `step`): the identification procedure's steps, the
# monitoring period's waits and exit steps, self-report acceptance, escalations, and actions the
# database refused to store (the county officer follows them up).
TASK_STEP_LABELS: dict[str, str] = {
    **{str(s): label for s, label in STEP_LABELS.items()},
    **{str(kind): label for kind, label in TASK_LABELS.items()},
    **{exit_task_step(s): f"风险消除：{label}" for s, label in EXIT_STEP_LABELS.items() if s != ExitStep.closed},
    SELF_REPORT_ACCEPTANCE: "受理农户申报",
    **follow_up.STEP_LABELS,
    ESCALATION: "超期督办",
    ATTENTION: "需要关注",
}

# Where the inbox keeps a task that has no deadline of its own (a monitoring period's support-person
# appointment, plan, exit proposal): last in every inbox, never overdue; shown without a due date.
# The last day a date may be, so that a page cursor stopping at such a task stays a valid cursor.
NO_DEADLINE = datetime.combine(LAST_DAY, time(), tzinfo=UTC)


def area_for(role: Role, county_code: str, township_code: str, village_code: str) -> str:
    """The area whose people of `role` act on a household's task."""
    if role in (Role.village_cadre, Role.four_teams):
        return village_code
    return township_code if role == Role.township_approver else county_code


class TaskSpec(BaseModel):
    """One open task as a workflow's state implies it."""

    key: str = Field(max_length=200)  # one occurrence of one wait; stable across retries
    step: str  # the step (or `escalation`) the task belongs to: the inbox filters and counts by it
    action: str | None  # the action that completes it (claims are checked against it)
    subject: str | None = None  # which part of the case: a department, an objection number
    role: Role
    area_code: str
    due_at: datetime | None  # None: no deadline of its own
    escalated_at: datetime | None = None  # when its deadline passed and the level above was told
    title: str  # one line for the inbox, in Chinese
    # `assignee`: the one person who may act (a monitoring period's support person), if only one may.
    detail: dict[str, Any] = Field(default_factory=dict)


def designated(detail: dict[str, Any]) -> str | None:
    """The one person who may act on a task, if only one may."""
    return detail.get("assignee")


def identification_tasks(state: CaseState) -> list[TaskSpec]:
    """The open tasks of an identification case in this state."""
    if not state.is_open:
        return []
    return [
        *_step_task(state),
        *_objection_tasks(state),
        *_cross_check_tasks(state),
        *_escalation_tasks(state),
        *attention_tasks(state.case_id, state.needs_attention, state.county_code),
    ]


def _task(
    state: CaseState, key: str, step: str, action: Action | None, role: Role, due_at: datetime, title: str, **extra: Any
) -> TaskSpec:
    return TaskSpec(
        key=f"{state.case_id}:{key}",
        step=step,
        action=action,
        role=role,
        area_code=acting_area(role, state),
        due_at=due_at,
        title=title,
        **extra,
    )


def _step_task(state: CaseState) -> list[TaskSpec]:
    action = STEP_ACTIONS.get(state.step)
    if action is None:
        return []
    late = current_step_escalation(state)
    # A step the policy gives no days of its own is due when the identification is.
    return [
        _task(
            state,
            f"{state.step}:{state.step_started_at.isoformat()}",
            state.step,
            action,
            ACTION_RULES[action].role,
            state.step_due_at or state.due_at,
            STEP_LABELS[state.step],
            escalated_at=late.escalated_at if late else None,
        )
    ]


def _objection_tasks(state: CaseState) -> list[TaskSpec]:
    if state.step != Step.village_notice or state.notice is None:
        return []
    return [
        _task(
            state,
            f"objection:{state.verification_round}:{o.objection_id}",
            Step.village_notice,
            Action.resolve_objection,
            Role.village_cadre,
            state.notice.ends_at,
            f"核实公示异议（第{o.objection_id}条）",
            subject=str(o.objection_id),
        )
        for o in state.notice.pending_objections
    ]


def _cross_check_tasks(state: CaseState) -> list[TaskSpec]:
    """A department that did not answer in time, or has no system registered: the county officer
    re-sends it or records its result by hand. Each (re)send is a new occurrence."""
    round_ = state.cross_check
    if round_ is None:
        return []
    return [
        _task(
            state,
            f"cross_check:{round_.round}:{department}:{len(request.request_ids)}",
            Step.cross_check,
            Action.record_cross_check,
            Role.county_officer,
            request.respond_by,
            f"信息比对：{DEPARTMENT_LABELS[department]}{CROSS_CHECK_STATUS_LABELS[request.status]}",
            subject=str(department),
            detail={"status": request.status, "request_id": request.request_id},
        )
        for department, request in round_.requests.items()
        if request.status in NEEDS_OFFICER
    ]


def _escalation_tasks(state: CaseState) -> list[TaskSpec]:
    """The level above follows up a late step while the case still waits at it, and a late
    identification while the case is open."""
    tasks = []
    for e in state.escalations:
        if e.scope == "step" and not (e.step == state.step and e.step_started_at == state.step_started_at):
            continue
        late_role = f"{ROLE_LABELS[e.from_role]}" if e.from_role else ""
        title = (
            f"超期督办：{late_role}「{STEP_LABELS[e.step]}」已超期"
            if e.scope == "step"
            else "超期督办：识别认定已超过办理时限"
        )
        key = (
            f"{ESCALATION}:{e.scope}:{e.step}:{e.step_started_at.isoformat()}"
            if e.scope == "step"
            else f"{ESCALATION}:identification"
        )
        tasks.append(
            _task(
                state,
                key,
                ESCALATION,
                None,
                e.to_role,
                e.respond_by,
                title,
                subject=e.scope,
                detail={"overdue_step": e.step, "overdue_role": e.from_role, "was_due_at": e.due_at.isoformat()},
            )
        )
    return tasks


def attention_tasks(record_id: str, refused: Sequence[RefusedAction], county_code: str) -> list[TaskSpec]:
    """An action the database refused to store (it changed nothing): the county officer finds out
    why and sees it done again. The task closes when that action is recorded."""
    return [
        TaskSpec(
            key=f"{record_id}:{ATTENTION}:{r.action}:{r.at.isoformat()}",
            step=ATTENTION,
            action=None,
            role=Role.county_officer,
            area_code=county_code,
            due_at=r.at,
            title=f"需要关注：「{r.label}」未能保存，未生效",
            subject=r.action,
            detail={"actor": r.actor, "error": r.error},
        )
        for r in refused
    ]
