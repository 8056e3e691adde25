"""What a person submits at each step of the identification procedure.

These models are both the API's request bodies and the workflow's update
arguments, so a payload is validated once, at the edge, with the same rules the
workflow relies on. Messages raised here are shown to cadres: Chinese.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.domain.form_fields import FormDateTime, LongText, Number, PastDate, RequiredText, ShortText, Text, Yuan
from services.domain.personal_data import IdNumber
from services.domain.vocabulary import Category, Channel, Department, LabourCapacity, RiskType


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncomeBySource(Form):
    """Household income over the last 12 months, yuan."""

    wage: Yuan = Field(description="工资性收入")
    business_net: Annotated[float, Number(-100_000_000, 100_000_000)] = Field(description="经营净收入（可为负）")
    property_income: Yuan = Field(description="财产性收入")
    transfer: Yuan = Field(description="转移性收入")

    @property
    def total(self) -> float:
        return self.wage + self.business_net + self.property_income + self.transfer


class LivingConditions(Form):
    """两不愁三保障 and drinking water: True means secured."""

    food_and_clothing: bool = Field(description="吃穿不愁")
    compulsory_education: bool = Field(description="义务教育有保障")
    basic_medical_care: bool = Field(description="基本医疗有保障")
    safe_housing: bool = Field(description="住房安全有保障")
    safe_drinking_water: bool = Field(description="饮水安全有保障")


class HouseholdAssessment(Form):
    """What cadres find at a household visit for a decision on it (identification or exit)."""

    visited_on: PastDate = Field(description="入户日期")
    verifiers: list[ShortText] = Field(min_length=1, max_length=10, description="核查人员姓名")
    household_size: int = Field(ge=1, le=30, description="家庭人口数")
    income: IncomeBySource
    compliant_spending: Yuan = Field(description="合规自付支出（元）")
    living_conditions: LivingConditions
    labour_capacity: LabourCapacity = Field(description="家庭劳动能力")
    able_workers: int = Field(ge=0, le=30, description="有劳动能力人数")
    notes: LongText = Field(default="", description="核查情况说明")

    @field_validator("verifiers")
    @classmethod
    def _distinct_verifiers(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError("核查人员姓名不能重复")
        return names

    @model_validator(mode="after")
    def _consistent(self) -> HouseholdAssessment:
        if self.able_workers > self.household_size:
            raise ValueError("有劳动能力人数不能超过家庭人口数")
        if (self.labour_capacity == LabourCapacity.none) != (self.able_workers == 0):
            raise ValueError("家庭劳动能力与有劳动能力人数不一致")
        return self

    @property
    def per_capita_net_income(self) -> float:
        return round((self.income.total - self.compliant_spending) / self.household_size, 2)


class HomeVerification(HouseholdAssessment):
    risk_types: list[RiskType] = Field(min_length=1, max_length=11, description="风险类型")
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "visited_on": "2026-11-20",
                    "verifiers": ["张建军", "刘芳"],
                    "household_size": 4,
                    "income": {"wage": 18000, "business_net": 3200, "property_income": 0, "transfer": 4800},
                    "compliant_spending": 46000,
                    "living_conditions": {
                        "food_and_clothing": True,
                        "compulsory_education": True,
                        "basic_medical_care": False,
                        "safe_housing": True,
                        "safe_drinking_water": True,
                    },
                    "labour_capacity": "partial",
                    "able_workers": 1,
                    "notes": "户主3月腰椎手术，自付医疗费约4.6万元，目前不能干重活；妻子在县城做零工",
                    "risk_types": ["illness"],
                    "proposed_category": "sudden_hardship",
                }
            ]
        }
    )

    proposed_category: Category = Field(description="拟认定类别")
    # The service proposes a category from the figures (services/domain/eligibility.py); cadres who
    # propose another one say why.
    category_reason: LongText = Field(default="", description="拟认定类别与系统测算结果不一致时的理由")

    @field_validator("risk_types")
    @classmethod
    def _distinct_risks(cls, risks: list[RiskType]) -> list[RiskType]:
        if len(set(risks)) != len(risks):
            raise ValueError("风险类型不能重复")
        return risks


class Authorisation(Form):
    decision: Literal["signed", "refused"] = Field(description="签署或拒绝")
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"decision": "signed", "signed_on": "2026-11-21", "signer_name": "李振华"}]}
    )

    signed_on: PastDate = Field(description="签署（或拒绝）日期")
    signer_name: ShortText = Field(description="签署人")
    notes: LongText = ""


class CrossCheckMatch(Form):
    kind: Annotated[str, Text(50, min_length=1, strip=False)]
    description: Annotated[str, Text(500, lines=True, strip=False)]
    value: Annotated[float, Number(-1e12, 1e12)] | None = None


class CrossCheckFinding(Form):
    id_number: IdNumber
    matches: list[CrossCheckMatch] = Field(max_length=100)


class CrossCheckResult(Form):
    department: Department
    status: Literal["completed", "failed"]
    findings: list[CrossCheckFinding] = Field(default_factory=list, max_length=100)
    completed_at: FormDateTime


class CrossCheckEntry(Form):
    """Results recorded by hand by the county officer, one or more departments at a time:
    a department without a registered system, or one that did not answer in time."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "department": "real_estate",
                            "status": "completed",
                            "findings": [],
                            "completed_at": "2026-11-27T10:30:00+08:00",
                        }
                    ],
                    "reason": "不动产登记中心系统升级，逾期未反馈；已于11月27日线下调取查询结果",
                }
            ]
        }
    )

    results: list[CrossCheckResult] = Field(min_length=1, max_length=10)
    reason: RequiredText = Field(description="手工录入的原因（如：部门逾期未反馈，已线下调取结果）")

    @field_validator("results")
    @classmethod
    def _distinct_departments(cls, results: list[CrossCheckResult]) -> list[CrossCheckResult]:
        if len({r.department for r in results}) != len(results):
            raise ValueError("同一部门的比对结果只能录入一次")
        return results


class CrossCheckResend(Form):
    """The county officer sends a department's request again (a new request id), e.g. after its deadline."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"department": "vehicles", "note": "车管所逾期未反馈，重新发送"}]}
    )

    department: Department = Field(description="比对部门")
    note: LongText = Field(default="", description="说明")


class ReviewRole(StrEnum):
    """Who takes part in the democratic review (DOMAIN.md, step 5)."""

    villager_representative = "villager_representative"
    first_secretary = "first_secretary"
    work_team = "work_team"
    village_committee = "village_committee"


REVIEW_ROLE_LABELS = {
    ReviewRole.villager_representative: "村民代表",
    ReviewRole.first_secretary: "驻村第一书记",
    ReviewRole.work_team: "驻村工作队",
    ReviewRole.village_committee: "村两委",
}


class Attendee(Form):
    name: ShortText = Field(description="姓名")
    # None only in reviews recorded before attendees had roles (a bare name then).
    role: ReviewRole | None = Field(
        default=None, description="身份：村民代表、驻村第一书记、驻村工作队或村两委（必填）"
    )


class DemocraticReview(Form):
    """A democratic review as recorded: attendees with their roles (older records: bare names)."""

    held_on: PastDate = Field(description="评议日期")
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "held_on": "2026-11-28",
                    "eligible_representatives": 9,
                    "attendees": [
                        {"name": "张建军", "role": "village_committee"},
                        {"name": "刘芳", "role": "first_secretary"},
                        {"name": "王志强", "role": "work_team"},
                        {"name": "李秀英", "role": "villager_representative"},
                        {"name": "赵海军", "role": "villager_representative"},
                        {"name": "高玉梅", "role": "villager_representative"},
                        {"name": "马文斌", "role": "villager_representative"},
                    ],
                    "votes_for": 6,
                    "votes_against": 0,
                    "abstentions": 1,
                    "minutes": "村民代表一致认为该户因病支出大、收入下降，同意纳入监测对象",
                }
            ]
        }
    )

    eligible_representatives: int = Field(ge=1, le=500, description="应到评议人数")
    attendees: list[Attendee] = Field(min_length=1, max_length=500, description="实到人员及其身份")
    votes_for: int = Field(ge=0, le=500, description="同意票")
    votes_against: int = Field(ge=0, le=500, description="反对票")
    abstentions: int = Field(ge=0, le=500, description="弃权票")
    minutes: LongText = Field(default="", description="评议记录")

    @field_validator("attendees", mode="before")
    @classmethod
    def _bare_names(cls, attendees: Any) -> Any:
        """Reviews recorded before roles were asked for named attendees only."""
        if isinstance(attendees, list):
            return [{"name": a} if isinstance(a, str) else a for a in attendees]
        return attendees

    @model_validator(mode="after")
    def _votes_add_up(self) -> DemocraticReview:
        if len(self.attendees) > self.eligible_representatives:
            raise ValueError("实到人数不能超过应到人数")
        if self.votes_for + self.votes_against + self.abstentions != len(self.attendees):
            raise ValueError("同意、反对、弃权票数之和应等于实到人数")
        return self


def attendee_refusal(review: DemocraticReview) -> str | None:
    """Why a review cannot be recorded now (Chinese): an attendee without a role (only reviews
    recorded before roles were asked for have none), or no village representative present. The
    vote rule counts every attendee (policy `vote_rule`)."""
    for i, attendee in enumerate(review.attendees, start=1):
        if attendee.role is None:
            return f"请填写第{i}位参会人员的身份（村民代表、驻村第一书记、驻村工作队或村两委）"
    if not any(a.role == ReviewRole.villager_representative for a in review.attendees):
        return "民主评议须有村民代表参加"
    return None


class Objection(Form):
    received_on: PastDate = Field(description="收到异议日期")
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"received_on": "2026-12-01", "raised_by": "匿名", "content": "该户在县城有门面房出租，收入情况不实"}
            ]
        }
    )

    raised_by: ShortText = Field(default="匿名", description="异议人（可匿名）")
    content: RequiredText = Field(description="异议内容")


class ObjectionResolution(Form):
    decision: Literal["upheld", "dismissed"] = Field(description="异议成立或不成立")
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "decision": "dismissed",
                    "findings": "经查不动产登记，该户在县城无房产；所称门面房为其亲戚所有",
                }
            ]
        }
    )

    # Only for an upheld objection: send the case back to home verification, or end it.
    upheld_action: Literal["reverify", "end"] | None = None
    findings: RequiredText = Field(description="核实情况")

    @model_validator(mode="after")
    def _action_matches_decision(self) -> ObjectionResolution:
        if self.decision == "upheld" and self.upheld_action is None:
            raise ValueError("异议成立时须选择处理方式：重新入户核查（reverify）或终止识别（end）")
        if self.decision == "dismissed" and self.upheld_action is not None:
            raise ValueError("异议不成立时不需要选择处理方式")
        return self


class TownshipReview(Form):
    decision: Literal["approve", "return"]
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"decision": "approve", "opinion": "材料齐全，程序规范，同意上报县级审定"}]}
    )

    opinion: LongText = Field(default="", description="审核意见")

    @model_validator(mode="after")
    def _reason_for_return(self) -> TownshipReview:
        if self.decision == "return" and not self.opinion:
            raise ValueError("退回时须填写审核意见")
        return self


class CountyDecision(Form):
    decision: Literal["approve", "reject"]
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"decision": "approve", "opinion": "同意认定为突发严重困难户"}]}
    )

    opinion: LongText = Field(default="", description="审定意见")

    @model_validator(mode="after")
    def _reason_for_rejection(self) -> CountyDecision:
        if self.decision == "reject" and not self.opinion:
            raise ValueError("不予认定时须填写审定意见")
        return self


class Announcement(Form):
    announced_on: PastDate = Field(description="公告日期")
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"announced_on": "2026-12-02", "notes": "已在县乡村振兴局网站公告"}]}
    )

    notes: LongText = ""


class FastTrack(Form):
    """绿色通道（先帮后评）: after a disaster or an emergency the township starts support before the
    identification ends; the steps still follow."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "started_on": "2026-11-21",
                    "emergency": "11月19日房屋因暴雨倒塌，家中财物损毁，基本生活出现严重困难",
                    "measures": ["临时救助3000元", "安排过渡安置住房"],
                }
            ]
        }
    )

    started_on: PastDate = Field(description="先行帮扶启动日期")
    emergency: RequiredText = Field(description="突发严重困难情况")
    measures: list[Annotated[str, Text(200, min_length=1)]] = Field(
        min_length=1, max_length=20, description="先行落实的帮扶措施"
    )


class Lead(Form):
    """A further lead on a household whose case is already open (DOMAIN.md: it joins the open case)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"channel": "department_warning", "note": "医保部门预警：11月自付医疗费用超过1万元"}]
        }
    )

    channel: Channel = Field(description="发现渠道")
    note: LongText = Field(default="", description="线索说明")
