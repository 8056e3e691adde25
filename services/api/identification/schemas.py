"""What the case endpoints answer.

A case view is the workflow's state (services/domain/identification/state.py) as its reader may
see it, with labels and deadline flags. Records the workflow keeps of submitted forms are answered
as they were stored: their fields are those of the form of the same step (the request bodies)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.answers import Moment, Page
from services.api.timelines import TimelineEntry
from services.domain.eligibility import Eligibility
from services.domain.form_fields import LongText, Text
from services.domain.identification.cross_check import CrossCheckRound, MemberFindings
from services.domain.identification.state import Escalation, RefusedAction
from services.domain.vocabulary import Channel, CrossCheckStatus, Department, Outcome, Step

# A stored form (or a record built on one): ID numbers masked for readers who may not see them.
FormRecord = dict[str, Any]


class CaseOpen(BaseModel):
    """A risk lead on a registered household: it opens the household's identification case."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "household_code": "610824100201000001",
                    "channel": "cadre_screening",
                    "lead_note": "户主李振华今年3月腰椎手术，自付医疗费约4.6万元，妻子在家照顾，家庭收入明显下降",
                }
            ]
        }
    )

    household_code: Annotated[str, Text(20, min_length=1, strip=False)] = Field(description="户编码")
    channel: Channel = Field(description="发现渠道")
    lead_note: LongText = Field(default="", description="线索说明")


class CaseLabels(BaseModel):
    step_label: str = Field(description="当前环节")
    channel_label: str = Field(description="发现渠道")
    outcome_label: str | None = Field(description="办理结果")
    overdue: bool = Field(description="识别已超过总时限")
    step_overdue: bool = Field(description="当前环节已超期")


class CaseView(CaseLabels):
    """One identification case (识别案件): its detail page and the answer to every action on it."""

    case_id: str
    household_code: str
    county_code: str
    township_code: str
    village_code: str
    channel: Channel
    lead_note: str
    further_leads: list[FormRecord] = Field(default_factory=list, description="并入的新线索（Lead 表单及登记人）")
    policy_version: int
    step: Step
    outcome: Outcome | None = None
    opened_at: datetime
    due_at: datetime
    step_started_at: datetime
    step_due_at: datetime | None
    closed_at: datetime | None = None
    seq: int = 0
    verification_round: int = 1
    verification: FormRecord | None = Field(default=None, description="入户核查（HomeVerification 表单）")
    per_capita_net_income: float | None = None
    eligibility: Eligibility | None = Field(default=None, description="系统按监测标准测算的拟认定类别及理由")
    authorisation: FormRecord | None = Field(default=None, description="承诺授权（Authorisation 表单）")
    cross_checks: dict[Department, FormRecord] = Field(
        default_factory=dict, description="本轮各部门比对结果（CrossCheckResult）"
    )
    cross_check: CrossCheckRound | None = None
    review: FormRecord | None = Field(default=None, description="民主评议（DemocraticReview 表单及是否通过）")
    notice: FormRecord | None = Field(default=None, description="村级公示期及登记的异议")
    township_review: FormRecord | None = Field(default=None, description="镇审核（TownshipReview 表单）")
    township_returns: list[FormRecord] = Field(
        default_factory=list, description="镇审核退回重新核查的记录：理由、被退回的核查轮次及其民主评议"
    )
    county_decision: FormRecord | None = Field(default=None, description="县级审定（CountyDecision 表单）")
    announcement: FormRecord | None = Field(default=None, description="结果公告（Announcement 表单）")
    fast_track: FormRecord | None = Field(
        default=None, description="绿色通道：识别完成前先行帮扶（FastTrack 表单及启动人）"
    )
    escalations: list[Escalation] = Field(default_factory=list)
    needs_attention: list[RefusedAction] = Field(default_factory=list)
    findings_by_member: list[MemberFindings] = Field(default_factory=list, description="按家庭成员归集的比对发现")


class CaseSummary(CaseLabels):
    """One line of the case list."""

    case_id: str
    household_code: str
    head_name: str
    village_code: str
    channel: Channel
    step: Step
    outcome: Outcome | None
    opened_at: Moment
    due_at: Moment
    step_due_at: Moment | None
    closed_at: Moment | None
    needs_attention: bool = Field(description="有数据库未能保存的操作，需要县级处理")


class CasePage(Page[CaseSummary]):
    pass


class DepartmentReviewInput(BaseModel):
    label: str
    status: CrossCheckStatus
    status_label: str
    answered_at: datetime | None
    result_status: str | None = Field(description="比对结果：completed 或 failed")
    recorded_by: str | None
    reason: str | None


class ReviewInput(BaseModel):
    """What the democratic review and the township review weigh."""

    case_id: str
    household_code: str
    step: Step
    verification: FormRecord | None
    per_capita_net_income: float | None
    members: list[MemberFindings]
    departments: dict[Department, DepartmentReviewInput]
    pending_departments: list[Department]
    cross_check_started: bool
    cross_check_complete: bool = Field(description="各部门均已反馈或已由县级处理完毕：民主评议可以进行")


class CaseTimeline(BaseModel):
    case_id: str
    entries: list[TimelineEntry]
