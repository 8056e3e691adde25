"""Rules for department early warnings (行业部门筛查预警): which department sends which kinds,
who counts as low-income, which warnings become leads, and the lead's wording.

Low-income people (低收入人口): a person whose household is a monitoring target whose risk
is not eliminated (风险未消除), was identified as 脱贫不稳定户, or is flagged in the register
as 脱贫户, 低保 or 特困 (services/domain/household_register.py). Everyone else gets the
higher threshold.

Kinds. The six kinds of INTERFACES.md §3 are accepted from every department, as before; the
kinds added with education, housing, water and civil affairs only from their own department.
"""

from __future__ import annotations

from datetime import date

from services.domain.household_register import HouseholdFlags, counts_as_low_income
from services.domain.policy import PolicyBody
from services.domain.vocabulary import (
    DEPARTMENT_KIND_LABELS,
    WARNING_KIND_LABELS,
    Category,
    DepartmentKind,
    HouseholdStatus,
    WarningKind,
)

# Kinds a department of this kind may send on top of the six every department may send.
DEPARTMENT_WARNING_KINDS: dict[DepartmentKind, frozenset[WarningKind]] = {
    DepartmentKind.education: frozenset({WarningKind.school_dropout}),
    DepartmentKind.housing: frozenset({WarningKind.unsafe_housing}),
    DepartmentKind.water_resources: frozenset({WarningKind.water_supply_cut}),
    DepartmentKind.civil_affairs: frozenset({WarningKind.assistance_ended, WarningKind.temporary_assistance}),
}
EVERY_DEPARTMENT_KINDS = frozenset(
    {
        WarningKind.medical_expense,
        WarningKind.disability,
        WarningKind.disaster,
        WarningKind.accident,
        WarningKind.unemployment,
        WarningKind.other,
    }
)


def kind_refused(department: DepartmentKind, kind: WarningKind) -> str | None:
    """Why this department may not send this kind (a Chinese reason), or None when it may."""
    if kind in EVERY_DEPARTMENT_KINDS or kind in DEPARTMENT_WARNING_KINDS.get(department, frozenset()):
        return None
    senders = "、".join(DEPARTMENT_KIND_LABELS[d] for d, kinds in DEPARTMENT_WARNING_KINDS.items() if kind in kinds)
    return f"kind：“{WARNING_KIND_LABELS[kind]}”预警只能由{senders}部门发送"


def is_low_income(household_status: str, household_category: str | None, flags: HouseholdFlags) -> bool:
    return (
        household_status == HouseholdStatus.risk_not_eliminated
        or household_category == Category.unstable_formerly_poor
        or counts_as_low_income(flags)
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
