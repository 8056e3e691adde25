"""What a workflow Update for an action takes: one typed object, who acts and what they send.

The fields stand in the order the Updates once took as separate arguments, so a history written
before (an Update with positional arguments) still replays: services/workflows/procedure.py
`one_input` packs such arguments into these objects in that order.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

from services.domain.identification.forms import CrossCheckResult
from services.domain.identification.state import Actor
from services.domain.monitoring.forms import SupportAppointment

# Unbound, so that an input built without its form type named serialises the whole form.
F = TypeVar("F")


class StepInput(BaseModel, Generic[F]):
    """An action on a case: who takes it, and its form."""

    actor: Actor
    form: F


class ItemStepInput(BaseModel, Generic[F]):
    """An action on a numbered part of a case (an objection)."""

    actor: Actor
    item: int
    form: F


class PeriodInput(BaseModel, Generic[F]):
    """An action on a monitoring period, which it names (an earlier period refuses it)."""

    monitoring_id: str
    actor: Actor
    form: F


class PeriodItemInput(BaseModel, Generic[F]):
    """An action on a numbered part of a monitoring period (a plan, a measure, an objection)."""

    monitoring_id: str
    actor: Actor
    item: int
    form: F


class AppointmentInput(BaseModel):
    """Appointing a household's support person: the appointee's account as the API found it."""

    monitoring_id: str
    actor: Actor
    appointee: Actor
    form: SupportAppointment


class DepartmentAnswer(BaseModel):
    """A department's cross-check result for the case, forwarded from the callback inbox."""

    request_id: str
    result: CrossCheckResult
