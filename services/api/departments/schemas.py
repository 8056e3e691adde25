"""What the department endpoints answer: the county's department settings, the cross-check
tasks and warnings the county officer follows, and the answers to department systems
(INTERFACES.md §2, §3)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from services.api.answers import Items, Moment
from services.domain.vocabulary import DepartmentKind, WarningDelivery, WarningOutcome


class DepartmentView(BaseModel):
    """A department system of the county; its secret is never answered, only whether it is set."""

    kind: DepartmentKind
    kind_label: str
    county_code: str
    name: str
    base_url: str
    answer_days: float | None
    reask_hours: float
    enabled: bool
    secret_set: bool
    secret_updated_at: Moment | None
    updated_by: str
    updated_at: Moment | None


class CrossCheckTask(BaseModel):
    """One department of one case waiting for the county officer."""

    case_id: str
    household_code: str
    village_code: str
    department: str
    department_label: str
    status: str = Field(description="not_configured、overdue、silent 或 needs_attention")
    status_label: str
    request_id: str
    requested_at: Moment
    respond_by: Moment
    send_attempts: int
    last_send_error: str | None
    accepted_at: Moment | None
    answer_received_at: Moment | None
    needs_attention_since: Moment | None
    delivery_attempts: int | None


class CrossCheckTasks(Items[CrossCheckTask]):
    pass


class ReceivedWarning(BaseModel):
    """A warning a department sent, with what became of it (ID number masked)."""

    department: str
    warning_id: str | None
    id_number: str | None
    kind: str | None
    amount: float | None
    occurred_on: date | None
    outcome: WarningOutcome
    reason: str | None
    household_code: str | None
    low_income: bool | None
    threshold: float | None
    received_at: Moment | None
    delivery_status: WarningDelivery | None
    delivery_label: str | None
    needs_attention_since: Moment | None
    delivered_as: str | None
    case_id: str | None


class ReceivedWarnings(Items[ReceivedWarning]):
    pass


class CallbackReceipt(BaseModel):
    request_id: str
    status: str = Field(description="recorded（已记录）或 repeat（重复回传，已忽略）")


class WarningReceipt(BaseModel):
    """What became of one warning of a batch, in the batch's order."""

    index: int
    warning_id: str | None
    outcome: WarningOutcome
    reason: str | None = Field(default=None, description="invalid 时说明原因")


class BatchReceipt(BaseModel):
    department: str
    received: int
    outcomes: list[WarningReceipt]
