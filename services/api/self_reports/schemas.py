"""What the self-report endpoints answer: to the household on the mini-program (plain words,
its own application only, personal numbers masked) and to the township staff who answer it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.api.answers import Items, Moment, Page
from services.domain.self_reports.model import ApplicationStatus
from services.domain.vocabulary import Outcome, RiskType, Step


class CodeSent(BaseModel):
    message: str
    expires_in: int = Field(description="验证码有效秒数")
    resend_after: int = Field(description="多少秒后可重新获取")


class ApplicantToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class AreaChoice(BaseModel):
    code: str
    name: str
    level: str


class AppliedFor(BaseModel):
    """What the household applied with, as it may see it back."""

    head_name: str
    id_number: str = Field(description="身份证号（遮挡）")
    phone: str = Field(description="手机号（遮挡）")
    village_code: str
    village_name: str | None
    risk_types: list[RiskType]
    risk_type_labels: list[str]
    description: str


class Milestone(BaseModel):
    label: str
    at: Moment


class CaseProgress(BaseModel):
    """How far the case opened from the application has got, in the household's words."""

    step: Step
    stage: str
    next: str
    opened_at: Moment
    step_started_at: str = Field(description="进入当前环节的时间")
    step_due_at: Moment | None
    closed_at: Moment | None
    outcome: Outcome | None
    milestones: list[Milestone]


class ApplicationView(BaseModel):
    """The household's application and where it stands (申报进度)."""

    application_id: str
    status: ApplicationStatus
    status_label: str
    stage: str = Field(description="目前进展")
    next: str = Field(description="接下来会怎样")
    submitted_at: Moment
    answer_due_at: Moment
    overdue: bool
    escalated: bool
    decided_at: Moment | None
    rejection_reason: str | None
    application: AppliedFor
    case: CaseProgress | None


class ApplicationList(Items[ApplicationView]):
    pass


class SelfReportSummary(BaseModel):
    """One application in the township's list (ID number and phone masked in lists)."""

    application_id: str
    head_name: str
    id_number: str
    phone: str
    village_code: str
    household_code: str | None
    risk_types: list[RiskType]
    status: ApplicationStatus
    status_label: str
    submitted_at: Moment
    due_at: Moment
    overdue: bool
    escalated_at: Moment | None
    decided_at: Moment | None
    case_id: str | None


class SelfReportPage(Page[SelfReportSummary]):
    pass


class SelfReportDetail(SelfReportSummary):
    description: str
    risk_type_labels: list[str]
    rejection_reason: str | None
    decided_by: str | None
    joined_open_case: bool
    registered_household_code: str | None = Field(description="持有户主身份证号的已登记农户（受理时据此开案）")
