"""What readers see of a case: the workflow's state plus labels and deadline flags,
with ID numbers masked for readers who do not need them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.api.access import sees_personal_data
from services.api.identification.schemas import CaseSummary
from services.db.tables import Account, CaseRecord
from services.domain.identification.procedure import STEP_LABELS
from services.domain.personal_data import masked_copy
from services.domain.vocabulary import (
    CHANNEL_LABELS,
    CROSS_CHECK_STATUS_LABELS,
    DEPARTMENT_LABELS,
    OUTCOME_LABELS,
    Channel,
    CrossCheckStatus,
    Department,
    Outcome,
    Step,
)


def _is_past(moment: str | datetime | None, now: datetime) -> bool:
    if moment is None:
        return False
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return when < now


def deadline_flags(state: dict[str, Any], now: datetime | None = None) -> dict[str, bool]:
    now = now or datetime.now(UTC)
    is_open = state["step"] != Step.closed
    return {
        "overdue": is_open and _is_past(state["due_at"], now),
        "step_overdue": is_open and _is_past(state.get("step_due_at"), now),
    }


def labels(state: dict[str, Any]) -> dict[str, str | None]:
    outcome = state.get("outcome")
    return {
        "step_label": STEP_LABELS[Step(state["step"])],
        "channel_label": CHANNEL_LABELS[Channel(state["channel"])],
        "outcome_label": OUTCOME_LABELS[Outcome(outcome)] if outcome else None,
    }


def case_view(state: dict[str, Any], reader: Account) -> dict[str, Any]:
    """The full case for its detail page and action answers."""
    shown = state if sees_personal_data(reader, state["village_code"]) else masked_copy(state)
    return {**shown, **labels(state), **deadline_flags(state)}


def case_summary(record: CaseRecord, head_name: str) -> CaseSummary:
    state = record.state
    return CaseSummary(
        case_id=record.case_id,
        household_code=record.household_code,
        head_name=head_name,
        village_code=record.village_code,
        channel=Channel(record.channel),
        step=Step(record.step),
        outcome=Outcome(record.outcome) if record.outcome else None,
        opened_at=record.opened_at,
        due_at=record.due_at,
        step_due_at=record.step_due_at,
        closed_at=record.closed_at,
        **labels(state),
        **deadline_flags(state),
        needs_attention=bool(state.get("needs_attention")),  # an action the database refused
    )


def review_input(view: dict[str, Any]) -> dict[str, Any]:
    """From a case view (already masked for its reader): what the reviews weigh."""
    round_ = view.get("cross_check") or {"requests": {}}
    departments = {
        department: {
            "label": DEPARTMENT_LABELS[Department(department)],
            "status": request["status"],
            "status_label": CROSS_CHECK_STATUS_LABELS[CrossCheckStatus(request["status"])],
            "answered_at": request["answered_at"],
            "result_status": (view["cross_checks"].get(department) or {}).get("status"),
            "recorded_by": request["recorded_by"],
            "reason": request["reason"],
        }
        for department, request in round_["requests"].items()
    }
    pending = [
        d
        for d, r in departments.items()
        if r["status"] not in (CrossCheckStatus.answered, CrossCheckStatus.recorded_by_hand)
    ]
    started = view.get("cross_check") is not None
    return {
        "case_id": view["case_id"],
        "household_code": view["household_code"],
        "step": view["step"],
        "verification": view["verification"],
        "per_capita_net_income": view["per_capita_net_income"],
        "members": view["findings_by_member"],
        "departments": departments,
        "pending_departments": pending,
        "cross_check_started": started,
        "cross_check_complete": started and not pending,
    }
