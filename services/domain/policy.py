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

# The rules' floors (DOMAIN.md, "Deadlines"): every published policy keeps them, except in a
# development mode (Settings.development_policies) where a demo shortens the notice to seconds.
NOTICE_DAYS_FLOOR = 5
VERIFIERS_FLOOR = 2
VISIT_EVERY_MONTHS_CEILING = 1
# The step deadlines are summed in float days: allow for rounding, not for a real excess.
_FIT_TOLERANCE_DAYS = 1e-6


class PolicyRefusal(BaseModel):
    field: str
    message: str  # Chinese, for the admin publishing it


def days_to_identify(body: PolicyBody) -> float:
    """The days the identification takes when every step uses its whole deadline: the steps follow
    one another (the review waits for the cross-check), and the notice is one of them."""
    timed_by_notice = {Step.village_notice, Step.closed}
    return sum(days for step, days in body.step_days.items() if step not in timed_by_notice) + body.notice_days


def publish_refusal(body: PolicyBody, floors: bool = True) -> PolicyRefusal | None:
    """Why a version may not be published: its steps do not fit its own limit, or (with `floors`)
    it goes below the rules' floors. Checked on publishing only: versions already published (and
    the cases started under them) keep loading as they were."""
    needed = days_to_identify(body)
    if needed > body.identification_days + _FIT_TOLERANCE_DAYS:
        return PolicyRefusal(
            field="step_days",
            message=f"各环节办理时限与公示天数之和（{needed:g}天）超过认定时限（identification_days，"
            f"{body.identification_days:g}天），请缩短环节时限或延长认定时限",
        )
    if not floors:
        return None
    if body.notice_days < NOTICE_DAYS_FLOOR:
        return PolicyRefusal(field="notice_days", message=f"村级公示不得少于{NOTICE_DAYS_FLOOR}天")
    if body.min_verifiers < VERIFIERS_FLOOR:
        return PolicyRefusal(field="min_verifiers", message=f"入户核查不得少于{VERIFIERS_FLOOR}人")
    if body.visit_every_months > VISIT_EVERY_MONTHS_CEILING:
        return PolicyRefusal(field="visit_every_months", message="走访周期不得超过1个月：每月至少走访一次")
    return None
