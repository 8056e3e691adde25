"""Screening rules (全农户排查规则), part of the versioned policy: which rules flag a household, the risk
type each stands for, their shares, and how many leads a run hands to the village cadres at a time."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from services.domain.form_fields import Number
from services.domain.vocabulary import RiskType


class ScreeningRule(StrEnum):
    income_below_line = "income_below_line"  # per-capita income at or below the year's monitoring line
    income_drop = "income_drop"  # per-capita income fell by more than a share year on year
    spending_share = "spending_share"  # medical spending above a share of the household's income
    medical_bill = "medical_bill"  # the year's medical bills above the policy's threshold
    pupil_left_school = "pupil_left_school"
    unsafe_housing = "unsafe_housing"


RULE_LABELS = {
    ScreeningRule.income_below_line: "年人均纯收入低于监测标准",
    ScreeningRule.income_drop: "年人均纯收入同比大幅下降",
    ScreeningRule.spending_share: "医疗等刚性支出占收入比例过高",
    ScreeningRule.medical_bill: "年度医疗费用超过标准",
    ScreeningRule.pupil_left_school: "有学生辍学",
    ScreeningRule.unsafe_housing: "住房鉴定为危房",
}

DEFAULT_RISK_TYPES = {
    ScreeningRule.income_below_line: RiskType.unstable_employment,
    ScreeningRule.income_drop: RiskType.unstable_employment,
    ScreeningRule.spending_share: RiskType.illness,
    ScreeningRule.medical_bill: RiskType.illness,
    ScreeningRule.pupil_left_school: RiskType.schooling,
    ScreeningRule.unsafe_housing: RiskType.housing,
}

Share = Annotated[float, Number(gt=0, le=1)]


class ScreeningPolicy(BaseModel):
    rules: list[ScreeningRule] = Field(
        default_factory=lambda: list(ScreeningRule), max_length=len(ScreeningRule), description="启用的排查规则"
    )
    risk_types: dict[ScreeningRule, RiskType] = Field(
        default_factory=lambda: dict(DEFAULT_RISK_TYPES), description="各规则对应的风险类型"
    )
    income_drop_share: Share = Field(default=0.3, description="年人均纯收入同比下降超过此比例即预警")
    spending_share: Share = Field(default=0.5, description="医疗等刚性支出超过年收入此比例即预警")
    lead_batch_size: int = Field(default=200, ge=1, le=5000, description="每批推送给村干部的线索数")
    leads_in_flight: int = Field(default=8, ge=1, le=64, description="同时开立的线索数上限")
    batch_pause_seconds: Annotated[float, Number(ge=0, le=86400)] = Field(
        default=0, description="两批线索之间的间隔（秒）"
    )

    def risk_type(self, rule: ScreeningRule) -> RiskType:
        return self.risk_types.get(rule, DEFAULT_RISK_TYPES[rule])
