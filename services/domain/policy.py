"""The versioned procedure policy.

Figures that differ by province and year live here as data. A case copies the
policy version in force when it starts into its workflow input, so publishing a
new version never changes cases already in flight.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.domain.form_fields import INT4_MAX, Number
from services.domain.identification.procedure import IDENTIFICATION
from services.domain.screening.rules import ScreeningPolicy
from services.domain.vocabulary import Department, Step

# Time limits in days may be fractions (see PolicyBody); yuan thresholds far above any real
# figure, far below what breaks arithmetic or JSON.
Days = Annotated[float, Number(gt=0, le=365)]
PolicyYuan = Annotated[float, Number(gt=0, le=10_000_000)]
Year = Annotated[int, Field(ge=2000, le=2100)]


class IncomeLines(BaseModel):
    """One year's income lines, yuan per person and year (各省每年公布)."""

    monitoring_yuan: PolicyYuan = Field(description="监测范围：年人均纯收入标准（元）")
    exit_yuan: PolicyYuan | None = Field(
        default=None, description="风险消除：年人均纯收入须高于的标准（元）；不填则同监测标准"
    )

    @model_validator(mode="after")
    def _exit_not_below_monitoring(self) -> IncomeLines:
        if self.exit_yuan is not None and self.exit_yuan < self.monitoring_yuan:
            raise ValueError("风险消除收入标准（exit_yuan）不能低于当年监测标准（monitoring_yuan）")
        return self


class LineInForce(BaseModel):
    """The income line a judgement on a given date uses, and where it comes from."""

    yuan: float
    year: int | None  # None: the policy's single line (`income_line_yuan`), no year of its own

    def __str__(self) -> str:
        return f"{self.year}年标准{self.yuan:g}元" if self.year else f"{self.yuan:g}元"


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
            "examples": [
                {
                    "notice_days": 7,
                    "income_lines": {"2025": {"monitoring_yuan": 7800}, "2026": {"monitoring_yuan": 8100}},
                    "medical_expense_threshold_other": 28000,
                }
            ]
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
    income_line_yuan: PolicyYuan = Field(
        default=7800, description="监测范围：年人均纯收入标准（元）；income_lines 未设定的年份适用"
    )
    income_lines: dict[Year, IncomeLines] = Field(
        default_factory=dict,
        max_length=100,
        description="按年份设定的监测标准和风险消除收入标准：某日的判断适用当年的标准（当年未设定则适用之前最近一年的）",
    )
    medical_expense_threshold_low_income: PolicyYuan = Field(default=10000)
    medical_expense_threshold_other: PolicyYuan = Field(default=26000)
    # Monitoring and exit (帮扶与风险消除).
    visit_every_months: int = Field(default=1, ge=1, le=12, description="走访周期（月）：每个周期至少走访一次")
    exit_min_monitoring_months: int = Field(default=6, ge=0, le=60, description="标注风险消除前至少监测月数")
    exit_income_months: int = Field(default=6, ge=1, le=24, description="退出前收入须持续高于监测标准的月数（按走访）")
    exit_min_delivered_measures: int = Field(default=1, ge=0, le=20, description="退出前至少落实的帮扶措施数")
    screening: ScreeningPolicy = Field(default_factory=ScreeningPolicy, description="全农户排查规则")

    @model_validator(mode="after")
    def _whole_year_visits(self) -> PolicyBody:
        if 12 % self.visit_every_months:
            raise ValueError("走访周期须能整除12：1、2、3、4、6或12个月")
        return self

    def income_line_on(self, day: date, purpose: Literal["monitoring", "exit"] = "monitoring") -> LineInForce:
        """The line in force on `day`: that year's, else the nearest earlier year's, else `income_line_yuan`.
        A household identified in one year and assessed for exit in the next is held to the newer line."""
        years = [year for year in self.income_lines if year <= day.year]
        if not years:
            return LineInForce(yuan=self.income_line_yuan, year=None)
        year = max(years)
        lines = self.income_lines[year]
        yuan = lines.exit_yuan if purpose == "exit" and lines.exit_yuan is not None else lines.monitoring_yuan
        return LineInForce(yuan=yuan, year=year)


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
