"""The visit calendar of a monitored household: one visit task per period, owed from the
start of monitoring; a period that ends without a visit is overdue and escalated to the
township. Pure functions over the workflow's state, so replays and tests agree."""

from __future__ import annotations

import math
from datetime import datetime

from services.domain.monitoring.forms import Visit
from services.domain.monitoring.state import MonitoringState, VisitTask
from services.domain.monitoring.vocabulary import VisitTaskStatus
from services.domain.months import local_date, next_period, period_end, period_first_day, period_of
from services.domain.policy import PolicyBody

OPEN_VISIT_TASK = "open_visit_task"
VISIT_OVERDUE = "visit_overdue"


def income_window(policy: PolicyBody) -> int:
    """How many recent visit periods the exit's income rule looks at."""
    return math.ceil(policy.exit_income_months / policy.visit_every_months)


def advance_calendar(state: MonitoringState, policy: PolicyBody, now: datetime) -> list[tuple[str, VisitTask]]:
    """Marks ended periods overdue and opens every period up to now. Changes `state`;
    returns each change (action, task), oldest first. Nothing is owed once the risk is eliminated."""
    if not state.is_monitored:
        return []
    months = policy.visit_every_months
    changes: list[tuple[str, VisitTask]] = []
    for task in state.visit_tasks:
        if task.status == VisitTaskStatus.open and task.due_at <= now:
            _escalate(task, state)
            changes.append((VISIT_OVERDUE, task))
    owed_from = period_of(local_date(state.visits_owed_from), months)
    period = owed_from if not state.visit_tasks else max(next_period(state.visit_tasks[-1].period, months), owed_from)
    current = period_of(local_date(now), months)
    while period <= current:
        task = VisitTask(
            period=period,
            opens_on=max(period_first_day(period), local_date(state.visits_owed_from)),
            due_at=period_end(period, months),
            status=VisitTaskStatus.open,
        )
        if task.due_at <= now:  # the whole period passed while nothing ran (e.g. workers down)
            _escalate(task, state)
        state.visit_tasks.append(task)
        changes.append((VISIT_OVERDUE if task.status == VisitTaskStatus.overdue else OPEN_VISIT_TASK, task))
        period = next_period(period, months)
    # Older tasks are final and already in PostgreSQL; the state keeps what the exit rules need.
    del state.visit_tasks[: -max(12, income_window(policy) + 1)]
    return changes


def _escalate(task: VisitTask, state: MonitoringState) -> None:
    task.status = VisitTaskStatus.overdue
    task.escalated_to = state.township_code


def current_period_end(state: MonitoringState, policy: PolicyBody, now: datetime) -> datetime | None:
    """When the calendar next needs to act: the end of the current period, while monitored."""
    if not state.is_monitored:
        return None
    return period_end(period_of(local_date(now), policy.visit_every_months), policy.visit_every_months)


def visit_problem(state: MonitoringState, policy: PolicyBody, visit: Visit, now: datetime) -> str | None:
    """Why this visit cannot be recorded now, in words a cadre reads; None if it can. (A date
    after today the validator refuses first, like every form's: `procedure.check_dates`.)"""
    today = local_date(now)
    if visit.visited_on < local_date(state.visits_owed_from):
        return "走访日期早于本期监测开始日期"
    if period_of(visit.visited_on, policy.visit_every_months) != period_of(today, policy.visit_every_months):
        return "只能录入本期的走访；上期已结束，未走访的已按逾期上报"
    return None


def apply_visit(state: MonitoringState, policy: PolicyBody, visit: Visit) -> VisitTask:
    """Counts the visit on its period's task (which `advance_calendar` has opened)."""
    period = period_of(visit.visited_on, policy.visit_every_months)
    task = next(t for t in state.visit_tasks if t.period == period)
    if task.status == VisitTaskStatus.open:
        task.status = VisitTaskStatus.done
        task.first_visited_on = visit.visited_on
    task.visit_count += 1
    task.per_capita_net_income = visit.per_capita_net_income
    state.visits_recorded += 1
    state.living_conditions = visit.living_conditions
    state.per_capita_net_income = visit.per_capita_net_income
    return task


def cancel_open_tasks(state: MonitoringState) -> None:
    """Once the risk is eliminated, the current period's visit is no longer owed."""
    for task in state.visit_tasks:
        if task.status == VisitTaskStatus.open:
            task.status = VisitTaskStatus.cancelled
