"""A procedure described once, as a table: its steps and the actions people take on them.

Each procedure (the identification, the support and exit of a monitored household) is one
`Procedure` value. The workflow's validators (step and role), the API's action routes, the
escalation, the step deadlines' defaults, the task inbox's labels and the household's texts all
read it; tests/test_procedure_tables.py proves the table and the code agree. Adding a step means
one `StepSpec`, one `ActionSpec` with its form, and its handler on the workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel

from services.domain.vocabulary import Role

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


@dataclass(frozen=True)
class StepSpec(Generic[S, A]):
    step: S
    label: str  # Chinese, as cadres read it
    # The action a person takes to complete the step (the step's task). None: the step waits on
    # time (the notice) or on departments (the cross-check), or ends the procedure.
    action: A | None = None
    # Default days for the step in the policy's `step_days`; None: its deadline comes from elsewhere.
    days: float | None = None
    # (where it stands, what happens next) in plain Chinese for the household.
    applicant: tuple[str, str] | None = None


@dataclass(frozen=True)
class ActionSpec(Generic[S, A]):
    action: A
    roles: tuple[Role, ...]  # who may take it; the first is named in refusals
    label: str  # Chinese: what the actor does ("只有村干部可以<label>")
    form: type[BaseModel]  # the request body
    path: str  # its route under the record: POST /{id}/<path>; `{name}` names a numbered item
    title: str  # the route's summary
    steps: frozenset[S] = field(default_factory=frozenset)  # where it may be taken; empty: not tied to a step
    update: str = ""  # the workflow Update it calls; the action's name when empty
    assigned_only: bool = False  # only the person assigned to the record (its support person) may take it
    item_max: int = 10_000  # the largest item number its path accepts

    @property
    def role(self) -> Role:
        return self.roles[0]

    @property
    def update_name(self) -> str:
        return self.update or str(self.action)

    @property
    def item(self) -> str | None:
        """The path parameter naming a numbered part of the record (an objection, a plan), if any."""
        start = self.path.find("{")
        return self.path[start + 1 : self.path.index("}")] if start >= 0 else None


@dataclass(frozen=True)
class Procedure(Generic[S, A]):
    subject: str  # what a refusal calls the record waiting at a step ("案件")
    steps: tuple[StepSpec[S, A], ...]
    actions: tuple[ActionSpec[S, A], ...]

    def __post_init__(self) -> None:
        for kind, keys in (("step", [s.step for s in self.steps]), ("action", [a.action for a in self.actions])):
            if len(set(keys)) != len(keys):
                raise ValueError(f"a {kind} is described twice")

    def step(self, step: S) -> StepSpec[S, A]:
        return next(s for s in self.steps if s.step == step)

    def action(self, action: A) -> ActionSpec[S, A]:
        return next(a for a in self.actions if a.action == action)

    @property
    def labels(self) -> Mapping[S, str]:
        return {s.step: s.label for s in self.steps}

    @property
    def rules(self) -> Mapping[A, ActionSpec[S, A]]:
        return {a.action: a for a in self.actions}

    @property
    def step_actions(self) -> Mapping[S, A]:
        """The action that completes each step that waits on a person."""
        return {s.step: s.action for s in self.steps if s.action is not None}

    @property
    def step_days(self) -> dict[S, float]:
        return {s.step: s.days for s in self.steps if s.days is not None}

    def completing(self, step: S) -> ActionSpec[S, A] | None:
        """The action that completes `step`, if a person does."""
        action = self.step(step).action
        return self.action(action) if action is not None else None
