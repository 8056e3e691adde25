"""Rules for department early warnings (行业部门筛查预警): who counts as low-income,
which warnings become leads, and the lead's wording.

Low-income people (低收入人口). The registry holds no 低保/特困 flags yet, so a person
counts as low-income when their household is a monitoring target whose risk is not
eliminated (风险未消除), or was identified as 脱贫不稳定户 (formerly poor). Everyone
else gets the higher threshold: the cautious choice, since a lower threshold for them
would open cases the policy does not ask for.
"""

from __future__ import annotations

from datetime import date

from services.domain.policy import PolicyBody
from services.domain.vocabulary import (
    DEPARTMENT_KIND_LABELS,
    WARNING_KIND_LABELS,
    Category,
    DepartmentKind,
    HouseholdStatus,
    WarningKind,
)


def is_low_income(household_status: str, household_category: str | None) -> bool:
    return (
        household_status == HouseholdStatus.risk_not_eliminated or household_category == Category.unstable_formerly_poor
    )


def amount_threshold(policy: PolicyBody, kind: WarningKind, low_income: bool) -> float | None:
    """The amount a warning must exceed to become a lead; None: every such warning is a lead."""
    if kind == WarningKind.medical_expense:
        return policy.medical_expense_threshold_low_income if low_income else policy.medical_expense_threshold_other
    return None


def becomes_lead(policy: PolicyBody, kind: WarningKind, amount: float | None, low_income: bool) -> bool:
    threshold = amount_threshold(policy, kind, low_income)
    return threshold is None or (amount is not None and amount > threshold)


def lead_note(
    department: DepartmentKind, kind: WarningKind, amount: float | None, occurred_on: date, detail: str, warning_id: str
) -> str:
    """The lead's text on the case: what and when, never the person's ID number."""
    amount_text = f"，金额{amount:,.2f}元" if amount is not None else ""
    detail_text = f"（{detail}）" if detail else ""
    return (
        f"{DEPARTMENT_KIND_LABELS[department]}部门预警：{WARNING_KIND_LABELS[kind]}{detail_text}"
        f"{amount_text}，发生日期{occurred_on.isoformat()}，预警编号{warning_id}"
    )
