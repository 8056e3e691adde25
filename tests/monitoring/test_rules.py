"""The monitoring rules as pure functions: months in Beijing time, the visit calendar,
the exit criteria and the measure proposals."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from services.domain.identification.forms import LivingConditions
from services.domain.monitoring.exit_criteria import assess_exit
from services.domain.monitoring.state import MonitoringState, VisitTask
from services.domain.monitoring.support_measures import propose_measures
from services.domain.monitoring.visit_calendar import advance_calendar, income_window
from services.domain.months import CHINA_TIME, add_months, local_date, next_period, period_end, period_of
from services.domain.policy import PolicyBody
from services.domain.vocabulary import HouseholdStatus, LabourCapacity, RiskType

SECURED = LivingConditions(
    food_and_clothing=True,
    compulsory_education=True,
    basic_medical_care=True,
    safe_housing=True,
    safe_drinking_water=True,
)


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TIME)


def _state(since: datetime, **overrides: object) -> MonitoringState:
    fields: dict[str, object] = {
        "monitoring_id": "m1",
        "household_code": "610824100201000001",
        "county_code": "610824000000",
        "township_code": "610824100000",
        "village_code": "610824100201",
        "policy_version": 1,
        "status": HouseholdStatus.risk_not_eliminated,
        "since": since,
        "clock_started_at": since,
        "visits_owed_from": since,
        "labour_capacity": LabourCapacity.partial,
        "able_workers": 2,
        "living_conditions": SECURED,
    }
    return MonitoringState.model_validate(fields | overrides)


def test_months_are_beijing_months() -> None:
    # 2026-11-30 20:00 UTC is already 1 December in Beijing.
    assert local_date(datetime.fromisoformat("2026-11-30T20:00:00+00:00")) == date(2026, 12, 1)
    assert period_of(date(2026, 12, 31), 1) == "2026-12" and next_period("2026-12", 1) == "2027-01"
    assert next_period("2027-01", -2) == "2026-11"
    assert period_end("2026-12", 1) == beijing(2027, 1, 1)
    assert period_of(date(2026, 11, 29), 3) == "2026-10" and period_end("2026-10", 3) == beijing(2027, 1, 1)
    assert add_months(beijing(2026, 8, 31, 9), 6) == beijing(2027, 2, 28, 9)


def test_the_calendar_catches_up_on_every_missed_month() -> None:
    state, policy = _state(beijing(2026, 11, 20)), PolicyBody()
    changes = advance_calendar(state, policy, beijing(2026, 11, 20, 1))
    assert [(a, t.period, t.opens_on) for a, t in changes] == [("open_visit_task", "2026-11", date(2026, 11, 20))]
    # Nothing ran for three months (a worker outage): each month gets its task, the ended ones overdue.
    changes = advance_calendar(state, policy, beijing(2027, 2, 3))
    assert [(a, t.period) for a, t in changes] == [
        ("visit_overdue", "2026-11"),
        ("visit_overdue", "2026-12"),
        ("visit_overdue", "2027-01"),
        ("open_visit_task", "2027-02"),
    ]
    assert all(t.escalated_to == "610824100000" for t in state.visit_tasks[:-1])
    assert advance_calendar(state, policy, beijing(2027, 2, 4)) == []
    # The state keeps a bounded window; older tasks live in PostgreSQL.
    advance_calendar(state, policy, beijing(2029, 1, 1))
    assert len(state.visit_tasks) == 12 and state.visit_tasks[-1].period == "2029-01"
    state.status = HouseholdStatus.risk_eliminated
    assert advance_calendar(state, policy, beijing(2029, 5, 1)) == []


def _tasks(incomes: list[float | None]) -> list[VisitTask]:
    """Monthly tasks from 2026-06 on; None: a month without a visit."""
    tasks, period = [], "2026-06"
    for income in incomes:
        tasks.append(
            VisitTask(
                period=period,
                opens_on=date.fromisoformat(period + "-01"),
                due_at=period_end(period, 1),
                status="overdue" if income is None else "done",
                visit_count=0 if income is None else 1,
                per_capita_net_income=income,
            )
        )
        period = next_period(period, 1)
    return tasks


@pytest.mark.parametrize(
    ("incomes", "held"),
    [
        ([9000] * 6, True),
        ([5000] + [9000] * 6, True),  # only the last six count
        ([9000] * 5, False),  # not six yet
        ([9000] * 3 + [None] + [9000] * 2, False),  # a missed month breaks the run
        ([9000] * 5 + [7800], False),  # at the line is not above it
    ],
)
def test_income_must_stay_above_the_line_at_six_visits(incomes: list, held: bool) -> None:
    state = _state(beijing(2026, 6, 1), visit_tasks=_tasks(incomes))
    unmet = {u.code for u in assess_exit(state, PolicyBody(), beijing(2027, 6, 2)).unmet}
    assert ("income" not in unmet) is held


def test_without_labour_the_exit_is_never_possible() -> None:
    state = _state(
        beijing(2026, 6, 1), visit_tasks=_tasks([9000] * 6), labour_capacity=LabourCapacity.none, able_workers=0
    )
    assessment = assess_exit(state, PolicyBody(exit_min_delivered_measures=0), beijing(2027, 6, 2))
    assert not assessment.eligible and assessment.social_protection
    assert [u.code for u in assessment.unmet] == ["no_labour"]


def test_the_income_window_follows_the_visit_cadence() -> None:
    assert income_window(PolicyBody()) == 6
    assert income_window(PolicyBody(visit_every_months=2, exit_income_months=6)) == 3
    with pytest.raises(ValidationError, match="走访周期须能整除12"):
        PolicyBody(visit_every_months=5)


def test_measures_follow_the_risks() -> None:
    today = date(2026, 11, 29)
    single = propose_measures([RiskType.water], LabourCapacity.full, today)
    assert [(m.kind, m.owner) for m in single] == [("social_security", "县水利局")]
    package = propose_measures([RiskType.business_failure, RiskType.unstable_employment], LabourCapacity.partial, today)
    assert [m.kind for m in package] == ["industry", "employment", "industry", "employment", "finance"]
    no_labour = propose_measures([RiskType.unstable_employment], LabourCapacity.none, today)
    assert [m.kind for m in no_labour] == ["social_security"] and "兜底" in no_labour[0].content
    assert all(m.starts_on == today for m in package)
