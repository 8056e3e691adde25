"""The versioned procedure policy.

Figures that differ by province and year live here as data. A case copies the
policy version in force when it starts into its workflow input, so publishing a
new version never changes cases already in flight.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.domain.form_fields import INT4_MAX, Number
from services.domain.identification.procedure import IDENTIFICATION
from services.domain.vocabulary import Department, Step

# Time limits in days may be fractions (see PolicyBody); yuan thresholds far above any real
# figure, far below what breaks arithmetic or JSON.
Days = Annotated[float, Number(gt=0, le=365)]
PolicyYuan = Annotated[float, Number(gt=0, le=10_000_000)]


class VoteRule(BaseModel):
    """Quorum: attendees/eligible ≥ quorum_numerator/quorum_denominator; then
    votes for must be more than half of those present."""

    quorum_numerator: int = Field(default=2, ge=1, le=100)
    quorum_denominator: int = Field(default=3, ge=1, le=100)

    @model_validator(mode="after")
    def _a_share(self) -> VoteRule:
        if self.quorum_numerator > self.quorum_denominator:
            raise ValueError("到会比例不能超过1（quorum_numerator 不能大于 quorum_denominator）")
        return self

    def passes(self, eligible: int, attendees: int, votes_for: int) -> bool:
        quorate = attendees * self.quorum_denominator >= eligible * self.quorum_numerator
        return quorate and votes_for * 2 > attendees


class PolicyBody(BaseModel):
    """Everything configurable about the procedure. Days may be fractional
    (a demo or test policy can shorten the notice to seconds)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"notice_days": 7, "income_line_yuan": 8100, "medical_expense_threshold_other": 28000}]
        }
    )

    identification_days: Days = Field(default=15, description="从线索到认定完成的时限（天）")
    notice_days: Annotated[float, Number(gt=0, le=60)] = Field(default=5, description="村级公示天数")
    step_days: dict[Step, Days] = Field(
        default_factory=lambda: dict(IDENTIFICATION.step_days),
        description="各环节办理时限（天）",
    )
    self_report_acceptance_days: Annotated[float, Number(gt=0, le=30)] = Field(default=2)
    escalation_days: Annotated[float, Number(gt=0, le=30)] = Field(
        default=1, description="超期督办：上级跟进办理时限（天）"
    )
    min_verifiers: int = Field(default=2, ge=1, le=10, description="入户核查最少人数")
    vote_rule: VoteRule = Field(default_factory=VoteRule)
    cross_check_departments: list[Department] = Field(default_factory=lambda: list(Department), min_length=1)
    income_line_yuan: PolicyYuan = Field(default=7800, description="监测范围：年人均纯收入标准（元）")
    medical_expense_threshold_low_income: PolicyYuan = Field(default=10000)
    medical_expense_threshold_other: PolicyYuan = Field(default=26000)
    # Monitoring and exit (帮扶与风险消除).
    visit_every_months: int = Field(default=1, ge=1, le=12, description="走访周期（月）：每个周期至少走访一次")
    exit_min_monitoring_months: int = Field(default=6, ge=0, le=60, description="标注风险消除前至少监测月数")
    exit_income_months: int = Field(default=6, ge=1, le=24, description="退出前收入须持续高于监测标准的月数（按走访）")
    exit_min_delivered_measures: int = Field(default=1, ge=0, le=20, description="退出前至少落实的帮扶措施数")

    @model_validator(mode="after")
    def _whole_year_visits(self) -> PolicyBody:
        if 12 % self.visit_every_months:
            raise ValueError("走访周期须能整除12：1、2、3、4、6或12个月")
        return self


class Policy(PolicyBody):
    model_config = ConfigDict(json_schema_extra=None)  # the body's example is not a whole policy

    version: int = Field(ge=1, le=INT4_MAX)


DEFAULT_POLICY = Policy(version=1)
