"""The bodies of INTERFACES.md, exactly: what the service sends and what departments send.

Used by the API (receiving), the worker (sending) and the department simulator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.domain.form_fields import FormDate, Number, Text
from services.domain.identification.forms import CrossCheckResult
from services.domain.personal_data import IdNumber
from services.domain.vocabulary import Department, WarningKind

MAX_WARNINGS_PER_BATCH = 1000
RequestId = Annotated[str, Text(64, min_length=1, strip=False)]


class CrossCheckSubject(BaseModel):
    name: str
    id_number: str


class CrossCheckRequestBody(BaseModel):
    """§1: service → department, `POST {base URL}/cross-checks`."""

    request_id: str
    department: Department
    case_reference: str
    subjects: list[CrossCheckSubject]
    callback_url: str
    respond_by: datetime


class CrossCheckCallback(CrossCheckResult):
    """§2: department → service, `POST /api/v1/callbacks/cross-checks/{request_id}`."""

    request_id: RequestId

    def result(self) -> CrossCheckResult:
        return CrossCheckResult.model_validate(self.model_dump(exclude={"request_id"}))


class EarlyWarning(BaseModel):
    """§3: one warning of a batch. Checked one by one: a bad one does not spoil the batch."""

    model_config = ConfigDict(extra="forbid")

    warning_id: Annotated[str, Text(100, min_length=1)]
    id_number: IdNumber
    kind: WarningKind
    amount: Annotated[float, Number(0, 100_000_000)] | None = None
    occurred_on: FormDate
    detail: Annotated[str, Text(500, lines=True)] = ""

    @model_validator(mode="after")
    def _amount_for_expenses(self) -> EarlyWarning:
        if self.kind == WarningKind.medical_expense and self.amount is None:
            raise ValueError("医疗费用预警须填写金额（amount）")
        return self


class EarlyWarningBatch(BaseModel):
    """§3 envelope. Each warning stays raw here and is validated on its own."""

    department: Annotated[str, Text(50, min_length=1, strip=False)]
    warnings: list[Any] = Field(min_length=1, max_length=MAX_WARNINGS_PER_BATCH)
