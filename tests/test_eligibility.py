"""The category the figures support at home verification (services/domain/eligibility.py)."""

from __future__ import annotations

from typing import Any

import pytest

from services.demo_case import home_verification
from services.domain.eligibility import judge_eligibility
from services.domain.identification.forms import HomeVerification
from services.domain.policy import PolicyBody
from services.domain.vocabulary import Category

POLICY = PolicyBody(income_line_yuan=7000, income_lines={2026: {"monitoring_yuan": 7800}})


def _found(wage: float, spending: float, **overrides: Any) -> HomeVerification:
    income = {"wage": wage, "business_net": 0, "property_income": 0, "transfer": 0}
    return HomeVerification.model_validate(
        home_verification(**{"income": income, "compliant_spending": spending, "visited_on": "2026-11-20"} | overrides)
    )


@pytest.mark.parametrize(
    ("wage", "spending", "formerly_poor", "categories"),
    [
        (31200, 0, True, [Category.unstable_formerly_poor]),  # 7,800 a person: at the line is inside the range
        (31200, 0, False, [Category.marginal]),
        (31200, 0, None, [Category.unstable_formerly_poor, Category.marginal]),  # the register does not say
        (40000, 9000, None, [Category.sudden_hardship]),  # 10,000 a person, 7,750 after 刚性支出
        (40000, 8000, None, []),  # 8,000 after 刚性支出: above the line
    ],
)
def test_the_figures_propose_the_category(
    wage: float, spending: float, formerly_poor: bool | None, categories: list[Category]
) -> None:
    judged = judge_eligibility(_found(wage, spending), POLICY, formerly_poor)
    assert judged.categories == categories
    assert judged.line.yuan == 7800 and judged.line.year == 2026
    assert all(judged.supports(c) for c in categories)
    assert not any(judged.supports(c) for c in set(Category) - set(categories))


def test_the_reasons_say_why_in_chinese() -> None:
    sudden = judge_eligibility(_found(40000, 9000), POLICY, None)
    assert sudden.per_capita_income == 10000 and sudden.per_capita_after_spending == 7750
    assert sudden.category_labels == ["突发严重困难户"]
    assert sudden.reasons[0] == (
        "年人均纯收入10000元，高于2026年标准7800元；扣除合规自付支出9000元后为7750元，不高于标准：刚性支出较大，属突发严重困难户"
    )
    assert "三保障和饮水安全尚未保障：基本医疗有保障" in sudden.reasons  # the form's example: medical care unsecured
    above = judge_eligibility(_found(40000, 0), POLICY, False)
    assert above.disagreement(Category.marginal) == (
        "拟认定类别（边缘易致贫户）与系统测算结果（不在监测范围）不一致，请填写理由（category_reason）"
    )


def test_the_line_is_the_one_in_force_on_the_verification_date() -> None:
    """7,500 a person: above the policy's single line (7,000, in force before 2026), inside 2026's (7,800)."""
    found_2025 = _found(30000, 0, visited_on="2025-12-30")
    found_2026 = _found(30000, 0, visited_on="2026-01-02")
    assert judge_eligibility(found_2025, POLICY, False).categories == []
    assert judge_eligibility(found_2026, POLICY, False).categories == [Category.marginal]
