"""A household's own application (农户自主申报, 一键申报): what it holds and where it stands.

The application waits for its township, which accepts it (the identification case opens
with channel self-report, or the application joins the household's open case) or rejects
it with a reason the applicant sees. Messages here are read by villagers: plain Chinese.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.domain.form_fields import Text
from services.domain.identification.state import Actor, RecordedEvent
from services.domain.personal_data import IdNumber, MobilePhone
from services.domain.policy import Policy
from services.domain.vocabulary import RISK_TYPE_LABELS, Outcome, RiskType


class ApplicationStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    withdrawn = "withdrawn"


APPLICATION_STATUS_LABELS = {
    ApplicationStatus.pending: "等待镇里受理",
    ApplicationStatus.accepted: "镇里已受理",
    ApplicationStatus.rejected: "未予受理",
    ApplicationStatus.withdrawn: "已撤回",
}


class SelfReportForm(BaseModel):
    """What the household fills in on the mini-program."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "head_name": "李振华",
                    "id_number": "610824197803121237",
                    "phone": "13991234567",
                    "village_code": "610824100201",
                    "risk_types": ["illness"],
                    "description": "我今年3月做了腰椎手术，花了4万多，现在干不了重活，家里收入少了一大半",
                    "consent": True,
                }
            ]
        },
    )

    head_name: Annotated[str, Text(50)] = Field(description="户主姓名")
    id_number: IdNumber = Field(description="户主身份证号（18位）")
    phone: MobilePhone = Field(description="联系电话（手机号）")
    village_code: Annotated[str, Text(20, strip=False)] = Field(description="所在村（村级区划代码）")
    risk_types: list[RiskType] = Field(max_length=11, description="遇到的困难（可多选）")
    description: Annotated[str, Text(1000, lines=True)] = Field(description="困难情况说明（用自己的话写）")
    consent: bool = Field(description="已阅读并同意《承诺授权书》")

    @field_validator("head_name")
    @classmethod
    def _name_given(cls, value: str) -> str:
        if not value:
            raise ValueError("请填写户主姓名")
        return value

    @field_validator("village_code")
    @classmethod
    def _village_shape(cls, value: str) -> str:
        if not (len(value) == 12 and value.isdigit()):
            raise ValueError("请从列表中选择您所在的村")
        return value

    @field_validator("risk_types")
    @classmethod
    def _some_distinct_risks(cls, risks: list[RiskType]) -> list[RiskType]:
        if not risks:
            raise ValueError("请至少选择一项遇到的困难")
        if len(set(risks)) != len(risks):
            raise ValueError("同一项困难不要重复选择")
        return risks

    @field_validator("description")
    @classmethod
    def _described(cls, value: str) -> str:
        if len(value) < 5:
            raise ValueError("请用几句话说明家里遇到的困难（至少5个字）")
        return value

    @field_validator("consent")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if not value:
            raise ValueError("请阅读并同意《承诺授权书》后再提交")
        return value


class Acceptance(BaseModel):
    """The township's answer to an application."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"decision": "accept"},
                {"decision": "reject", "reason": "经核实，您家今年收入稳定，暂不符合监测条件；如有新困难可再次申报"},
            ]
        },
    )

    decision: Literal["accept", "reject"] = Field(description="受理（accept）或不予受理（reject）")
    reason: Annotated[str, Text(500, lines=True)] = Field(default="", description="不予受理的理由（申报人可以看到）")

    @model_validator(mode="after")
    def _reason_for_rejection(self) -> Acceptance:
        if self.decision == "reject" and not self.reason:
            raise ValueError("不予受理时须填写理由，申报人会看到这条理由")
        return self


class SelfReportStart(BaseModel):
    """The application workflow's input."""

    application_id: str
    applicant_id: str
    # The verified phone the applicant signed in with: notices go there, not to the typed contact phone.
    notice_phone: str
    form: SelfReportForm
    # The registered household whose member holds the head's ID number (and name), if any.
    household_code: str | None
    # Where the application is handled: the registered household's village, else the one chosen.
    village_code: str
    policy: Policy


class CaseOutcome(BaseModel):
    """Sent to an application's workflow when the identification case it is linked to closes."""

    case_id: str
    outcome: Outcome
    closed_at: datetime


class SelfReportState(BaseModel):
    application_id: str
    applicant_id: str
    form: SelfReportForm
    household_code: str | None
    county_code: str
    township_code: str
    village_code: str
    status: ApplicationStatus = ApplicationStatus.pending
    policy_version: int
    submitted_at: datetime
    due_at: datetime
    escalated_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    rejection_reason: str | None = None
    case_id: str | None = None
    joined_open_case: bool = False
    case_outcome: CaseOutcome | None = None
    # Why the application was refused before it was recorded (a duplicate found at the last moment).
    refusal: dict[str, str] | None = None
    seq: int = 0


class SelfReportEvent(RecordedEvent):
    """One recorded change of an application: its history entry and the read model's new row."""

    state: SelfReportState


class OpenCaseRequest(BaseModel):
    """What the acceptance activity needs to open (or join) the household's identification case."""

    application_id: str
    household_code: str
    village_code: str
    lead_note: str
    actor: Actor


class OpenedCase(BaseModel):
    case_id: str
    joined: bool


class NoticeKind(StrEnum):
    accepted = "accepted"
    rejected = "rejected"
    case_decided = "case_decided"


class NoticeRequest(BaseModel):
    application_id: str
    kind: NoticeKind
    phone: str
    submitted_at: datetime
    reason: str | None = None
    outcome: Outcome | None = None
    # Accepted into the household's case that was already open (it may be past home verification).
    joined_open_case: bool = False


def applicant_actor(applicant_id: str, village_code: str) -> Actor:
    """The household member, in an application's history (not a staff role)."""
    return Actor(username=f"applicant:{applicant_id}", display_name="申报人", role=None, area_code=village_code)


def lead_note(form: SelfReportForm) -> str:
    """The household's own words, as the case's lead note."""
    risks = "、".join(RISK_TYPE_LABELS[r] for r in form.risk_types)
    return f"农户自主申报（{risks}）：{form.description}"
