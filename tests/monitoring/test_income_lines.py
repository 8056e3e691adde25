"""Income lines set per year in the policy: a judgement uses the line in force on its date."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.domain.monitoring.exit_criteria import assess_exit, verification_unmet
from services.domain.monitoring.forms import ExitVerification
from services.domain.policy import Policy, PolicyBody
from tests.monitoring.test_rules import SECURED, _state, _tasks, beijing

YEARLY = PolicyBody(
    income_line_yuan=7000,
    income_lines={2026: {"monitoring_yuan": 7800}, 2027: {"monitoring_yuan": 8100, "exit_yuan": 8400}},
)


def test_the_line_in_force_is_that_of_the_judgements_year() -> None:
    assert YEARLY.income_line_on(date(2026, 1, 1)).yuan == 7800
    assert YEARLY.income_line_on(date(2026, 12, 31), "exit").yuan == 7800  # no exit line: the monitoring line
    assert YEARLY.income_line_on(date(2027, 3, 1)).yuan == 8100
    assert YEARLY.income_line_on(date(2027, 3, 1), "exit").yuan == 8400
    # A year not set yet keeps the latest earlier year's line; before the first, the policy's single line.
    assert YEARLY.income_line_on(date(2029, 6, 1)).year == 2027
    assert YEARLY.income_line_on(date(2025, 6, 1)).model_dump() == {"yuan": 7000, "year": None}
    assert str(YEARLY.income_line_on(date(2027, 3, 1), "exit")) == "2027年标准8400元"


def test_an_old_policy_with_a_single_line_still_loads() -> None:
    old = Policy.model_validate_json('{"version": 3, "income_line_yuan": 7500, "notice_days": 5}')
    assert old.income_lines == {} and old.income_line_on(date(2027, 1, 1)).yuan == 7500
    # Stored as JSON (PostgreSQL, workflow histories): the years come back as numbers.
    assert Policy.model_validate_json(Policy(version=4, **YEARLY.model_dump()).model_dump_json()) == Policy(
        version=4, **YEARLY.model_dump()
    )


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ({"1999": {"monitoring_yuan": 6000}}, "greater than or equal to 2000"),
        ({"2026": {"monitoring_yuan": 0}}, "greater than 0"),
        ({"2026": {"monitoring_yuan": 8000, "exit_yuan": 7000}}, "不能低于当年监测标准"),
    ],
)
def test_a_yearly_line_out_of_bounds_is_refused(lines: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PolicyBody(income_lines=lines)


def test_an_exit_assessed_the_next_year_is_held_to_the_newer_line() -> None:
    """Identified in 2026; visits at 8,000 yuan clear 2026's line (7,800) but not 2027's exit line (8,400)."""
    state = _state(beijing(2026, 6, 1), visit_tasks=_tasks([8000] * 6))
    in_2026 = assess_exit(state, YEARLY, beijing(2026, 12, 20))
    assert "income" not in {u.code for u in in_2026.unmet}
    in_2027 = assess_exit(state, YEARLY, beijing(2027, 1, 2))
    income = next(u for u in in_2027.unmet if u.code == "income")
    assert "2027年标准8400元" in income.message


def test_the_exit_verification_uses_the_line_of_its_visit() -> None:
    found = {
        "verifiers": ["张村干部", "刘网格员"],
        "household_size": 4,
        "income": {"wage": 30000, "business_net": 3000, "property_income": 0, "transfer": 0},
        "compliant_spending": 0,  # 8,250 yuan a person
        "living_conditions": SECURED.model_dump(),
        "labour_capacity": "partial",
        "able_workers": 2,
        "expenses_resolved": True,
    }
    in_2026 = ExitVerification.model_validate(found | {"visited_on": "2026-12-30"})
    assert verification_unmet(in_2026, YEARLY) == []
    in_2027 = ExitVerification.model_validate(found | {"visited_on": "2027-01-04"})
    [income] = verification_unmet(in_2027, YEARLY)
    assert income.message == "核实的年人均纯收入8250元未高于2027年标准8400元"
