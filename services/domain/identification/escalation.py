"""Deadlines that escalate (超期督办): each step that waits on a person, and the whole identification.

When a step's deadline (policy `step_days`) passes while the case still waits at it, the level
above the role acting there is told: a village cadre's step goes to the township approver, a
township approver's to the county officer. When the identification's own limit (policy
`identification_days`, 15 by default) passes, the county officer is told. A county officer's own
step has no level above: it shows in the county's overdue list. The notice waits on time and the
cross-check on departments (whose missed answers are county tasks of their own), so neither escalates.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from services.domain.identification.procedure import IDENTIFICATION
from services.domain.identification.state import CaseState, Escalation
from services.domain.vocabulary import Role, Step

# The action that completes each step that waits on a person.
STEP_ACTIONS = IDENTIFICATION.step_actions

LEVEL_ABOVE: dict[Role, Role] = {
    Role.village_cadre: Role.township_approver,
    Role.township_approver: Role.county_officer,
}


def step_role(step: Step) -> Role | None:
    """Who completes the step, if a person does."""
    spec = IDENTIFICATION.completing(step)
    return spec.role if spec else None


def acting_area(role: Role, state: CaseState) -> str:
    """The area whose people of `role` act on this case."""
    return {
        Role.village_cadre: state.village_code,
        Role.township_approver: state.township_code,
    }.get(role, state.county_code)


class Deadline(BaseModel):
    scope: Literal["step", "identification"]
    due_at: datetime


def _escalated(state: CaseState, scope: str) -> bool:
    return any(
        e.scope == scope
        and (scope == "identification" or (e.step == state.step and e.step_started_at == state.step_started_at))
        for e in state.escalations
    )


def pending_deadlines(state: CaseState) -> list[Deadline]:
    """The deadlines of an open case that would escalate and have not yet."""
    if not state.is_open:
        return []
    pending = []
    if not _escalated(state, "identification"):
        pending.append(Deadline(scope="identification", due_at=state.due_at))
    role = step_role(state.step)
    if state.step_due_at is not None and role in LEVEL_ABOVE and not _escalated(state, "step"):
        pending.append(Deadline(scope="step", due_at=state.step_due_at))
    return pending


def escalation(state: CaseState, deadline: Deadline, now: datetime, escalation_days: float) -> Escalation:
    from_role = step_role(state.step) if deadline.scope == "step" else None
    to_role = LEVEL_ABOVE[from_role] if from_role is not None else Role.county_officer
    return Escalation(
        scope=deadline.scope,
        step=state.step,
        step_started_at=state.step_started_at,
        due_at=deadline.due_at,
        escalated_at=now,
        from_role=from_role,
        to_role=to_role,
        to_area_code=acting_area(to_role, state),
        respond_by=now + timedelta(days=escalation_days),
    )


def current_step_escalation(state: CaseState) -> Escalation | None:
    """The escalation of the step occurrence the case waits at now, if its deadline passed."""
    return next(
        (
            e
            for e in state.escalations
            if e.scope == "step" and e.step == state.step and e.step_started_at == state.step_started_at
        ),
        None,
    )
