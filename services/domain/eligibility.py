"""Whether a household's verified figures fall in the monitoring range, and as which category
(DOMAIN.md, "Who can become a monitoring target").

At home verification the service works out the per-capita net income and compares it with the
monitoring line in force on the verification date: at or below the line the household is inside
the range (脱贫不稳定户 if it is a 脱贫户, else 边缘易致贫户); above it, but at or below once its
compliant out-of-pocket spending (刚性支出) is taken off, it is a 突发严重困难户. The figures
propose; the cadres decide, and give a reason when their category differs. 三保障, drinking water
and labour capacity are weighed too: they are listed with the reasons, for the review.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from services.domain.identification.forms import HouseholdAssessment, LivingConditions
from services.domain.policy import LineInForce, PolicyBody
from services.domain.vocabulary import CATEGORY_LABELS, Category, LabourCapacity

_INCOME_CATEGORIES = {
    True: [Category.unstable_formerly_poor],
    False: [Category.marginal],
    None: [Category.unstable_formerly_poor, Category.marginal],
}


class Eligibility(BaseModel):
    """The service's proposal at home verification: what the figures support, and why."""

    judged_on: date = Field(description="测算日期（入户日期）")
    line: LineInForce = Field(description="适用的监测标准")
    per_capita_income: float = Field(description="年人均纯收入（元）")
    per_capita_after_spending: float = Field(description="扣除合规自付支出后的年人均纯收入（元）")
    categories: list[Category] = Field(description="测算支持的类别；为空：按收入不在监测范围")
    category_labels: list[str] = Field(description="测算支持的类别（中文）")
    reasons: list[str] = Field(description="测算理由")

    def supports(self, category: Category) -> bool:
        return category in self.categories

    def disagreement(self, category: Category) -> str:
        """What the cadres are told when their category is not what the figures support."""
        found = "、".join(self.category_labels) or "不在监测范围"
        return (
            f"拟认定类别（{CATEGORY_LABELS[category]}）与系统测算结果（{found}）不一致，请填写理由（category_reason）"
        )


def judge_eligibility(found: HouseholdAssessment, policy: PolicyBody, formerly_poor: bool | None) -> Eligibility:
    """`formerly_poor`: whether the household is a 脱贫户; None when the register does not say,
    then either income category fits a household inside the range."""
    line = policy.income_line_on(found.visited_on)
    income = round(found.income.total / found.household_size, 2)
    after_spending = found.per_capita_net_income
    if income <= line.yuan:
        categories = _INCOME_CATEGORIES[formerly_poor]
        reasons = [f"年人均纯收入{income:g}元，不高于{line}，在监测范围内", _income_category_reason(formerly_poor)]
    elif after_spending <= line.yuan:
        categories = [Category.sudden_hardship]
        reasons = [
            f"年人均纯收入{income:g}元，高于{line}；扣除合规自付支出{found.compliant_spending:g}元后为"
            f"{after_spending:g}元，不高于标准：刚性支出较大，属突发严重困难户"
        ]
    else:
        categories = []
        reasons = [
            f"年人均纯收入{income:g}元，扣除合规自付支出后为{after_spending:g}元，均高于{line}：按收入不在监测范围"
        ]
    return Eligibility(
        judged_on=found.visited_on,
        line=line,
        per_capita_income=income,
        per_capita_after_spending=after_spending,
        categories=categories,
        category_labels=[CATEGORY_LABELS[c] for c in categories],
        reasons=reasons + _other_findings(found),
    )


def _income_category_reason(formerly_poor: bool | None) -> str:
    if formerly_poor is None:
        return "户籍信息未标注是否脱贫户：脱贫户为脱贫不稳定户，其他农户为边缘易致贫户"
    return "脱贫户：脱贫不稳定户" if formerly_poor else "非脱贫户：边缘易致贫户"


def _other_findings(found: HouseholdAssessment) -> list[str]:
    """The other things the judgement weighs: 三保障 and water, and the ability to cope."""
    unsecured = [
        str(field.description)
        for name, field in LivingConditions.model_fields.items()
        if not getattr(found.living_conditions, name)
    ]
    findings = ["三保障和饮水安全尚未保障：" + "、".join(unsecured)] if unsecured else []
    if found.labour_capacity == LabourCapacity.none:
        findings.append("家中无有劳动能力的成员")
    return findings
