"""What people submit while a household is monitored: support person, plan, deliveries,
visits, and the exit procedure's own forms. Like `case_forms`, these are both the
API's request bodies and the monitoring workflow's update arguments. The exit
procedure reuses the identification forms for its democratic review, objections,
township review and county decision.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, field_validator

from services.domain.form_fields import FormDate, LongText, Number, PastDate, RequiredText, ShortText, Text
from services.domain.identification.forms import Form, HouseholdAssessment, LivingConditions
from services.domain.monitoring.vocabulary import MeasureKind
from services.domain.vocabulary import RiskType


def _distinct(values: list, message: str) -> list:
    if len(set(values)) != len(values):
        raise ValueError(message)
    return values


class SupportAppointment(Form):
    username: ShortText = Field(description="帮扶责任人账号（本村村干部）")
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "dongkeng.zhang", "note": "张建军熟悉该户情况，住得近"}]}
    )

    note: LongText = Field(default="", description="任命说明")


class MeasureDraft(Form):
    kind: MeasureKind = Field(description="措施类别：产业、就业、金融、综合保障、社会帮扶、扶志扶智")
    content: Annotated[str, Text(500, min_length=1, lines=True)] = Field(description="措施内容")
    owner: ShortText = Field(description="责任单位或责任人")
    starts_on: FormDate = Field(description="开始日期")


class PlanDraft(Form):
    """一户一策: the measures the support person chooses for the household."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "measures": [
                        {
                            "kind": "social_security",
                            "content": "申请大病医疗救助，落实医保倾斜报销",
                            "owner": "东坑镇民政办",
                            "starts_on": "2026-12-10",
                        },
                        {
                            "kind": "employment",
                            "content": "推荐妻子王秀兰到镇上扶贫车间就业",
                            "owner": "东坑镇人社所",
                            "starts_on": "2026-12-15",
                        },
                    ],
                    "notes": "先解决医疗负担，再稳定务工收入",
                }
            ]
        }
    )

    measures: list[MeasureDraft] = Field(min_length=1, max_length=20, description="帮扶措施")
    notes: LongText = Field(default="", description="计划说明")


class MeasureDelivery(Form):
    delivered_on: PastDate = Field(description="落实日期")
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"delivered_on": "2026-11-10", "evidence": "医疗救助发放凭证编号 JB2026-1187"}]}
    )

    evidence: RequiredText = Field(description="佐证材料说明（如发放凭证、合同、照片编号）")


class VisitReport(Form):
    """What every monthly visit (走访) records, whoever is visited."""

    visited_on: PastDate = Field(description="走访日期")
    visitors: list[ShortText] = Field(min_length=1, max_length=10, description="走访人员")
    findings: RequiredText = Field(description="走访情况")
    living_conditions: LivingConditions

    @field_validator("visitors")
    @classmethod
    def _distinct_visitors(cls, names: list[str]) -> list[str]:
        return _distinct(names, "走访人员姓名不能重复")


class Visit(VisitReport):
    """A monthly visit to a monitoring target: also its income and any new risk."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "visited_on": "2026-11-18",
                    "visitors": ["张建军"],
                    "findings": "户主恢复较好，可做轻活；妻子已在扶贫车间上班",
                    "per_capita_net_income": 7800,
                    "living_conditions": {
                        "food_and_clothing": True,
                        "compulsory_education": True,
                        "basic_medical_care": True,
                        "safe_housing": True,
                        "safe_drinking_water": True,
                    },
                    "new_risks": [],
                    "new_risk_note": "",
                }
            ]
        }
    )

    per_capita_net_income: Annotated[float, Number(-1_000_000, 10_000_000)] = Field(
        description="家庭年人均纯收入（元，按最近12个月估算）"
    )
    new_risks: list[RiskType] = Field(default_factory=list, max_length=11, description="新发现的风险类型")
    new_risk_note: LongText = Field(default="", description="新风险说明")

    @field_validator("new_risks")
    @classmethod
    def _distinct_risks(cls, risks: list[RiskType]) -> list[RiskType]:
        return _distinct(risks, "风险类型不能重复")


class ExitProposal(Form):
    notes: LongText = Field(default="", description="申请说明")
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"notes": "帮扶措施已落实满6个月，收入稳定，申请风险消除"}]}
    )


class ExitVerification(HouseholdAssessment):
    """入户核实 before an exit: the same facts as at identification, and whether the
    unavoidable expenses (刚性支出) that brought the risk are resolved."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "visited_on": "2026-11-25",
                    "verifiers": ["张建军", "刘芳"],
                    "household_size": 4,
                    "income": {"wage": 36000, "business_net": 4000, "property_income": 0, "transfer": 3600},
                    "compliant_spending": 6000,
                    "living_conditions": {
                        "food_and_clothing": True,
                        "compulsory_education": True,
                        "basic_medical_care": True,
                        "safe_housing": True,
                        "safe_drinking_water": True,
                    },
                    "labour_capacity": "partial",
                    "able_workers": 2,
                    "notes": "妻子稳定就业，户主可做轻活；医疗费用已由救助解决",
                    "expenses_resolved": True,
                }
            ]
        }
    )

    expenses_resolved: bool = Field(description="刚性支出问题已解决")


class ExitReversal(Form):
    reason: RequiredText = Field(description="回退原因")
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "风险消除后户主旧病复发住院，收入再次明显下降"}]}
    )
