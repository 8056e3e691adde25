"""What readers see of department settings, cross-check tasks and received warnings."""

from __future__ import annotations

from datetime import UTC, datetime

from services.api.departments.schemas import CrossCheckTask, DepartmentView, ReceivedWarning
from services.db.tables import CrossCheckCallbackRecord, CrossCheckRequestRecord, DepartmentRecord, EarlyWarningRecord
from services.domain.personal_data import mask_id_number
from services.domain.vocabulary import (
    ANSWER_NEEDS_ATTENTION,
    ANSWER_NEEDS_ATTENTION_LABEL,
    CROSS_CHECK_STATUS_LABELS,
    DEPARTMENT_KIND_LABELS,
    DEPARTMENT_LABELS,
    WARNING_DELIVERY_LABELS,
    CrossCheckStatus,
    Department,
    DepartmentKind,
    WarningDelivery,
    WarningOutcome,
)


def department_view(department: DepartmentRecord) -> DepartmentView:
    kind = DepartmentKind(department.kind)
    return DepartmentView(
        kind=kind,
        kind_label=DEPARTMENT_KIND_LABELS[kind],
        county_code=department.county_code,
        name=department.name,
        base_url=department.base_url,
        answer_days=department.answer_days,
        reask_hours=department.reask_hours,
        enabled=department.enabled,
        secret_set=bool(department.secret_sealed),
        secret_updated_at=department.secret_updated_at,
        previous_secret_until=(
            department.previous_secret_until
            if department.previous_secret_until and department.previous_secret_until > datetime.now(UTC)
            else None
        ),
        updated_by=department.updated_by,
        updated_at=department.updated_at,
    )


def cross_check_task(request: CrossCheckRequestRecord, stuck: CrossCheckCallbackRecord | None = None) -> CrossCheckTask:
    status, label = (
        (ANSWER_NEEDS_ATTENTION, ANSWER_NEEDS_ATTENTION_LABEL)
        if stuck is not None
        else (request.status, CROSS_CHECK_STATUS_LABELS[CrossCheckStatus(request.status)])
    )
    return CrossCheckTask(
        case_id=request.case_id,
        household_code=request.household_code,
        village_code=request.village_code,
        department=request.department,
        department_label=DEPARTMENT_LABELS[Department(request.department)],
        status=status,
        status_label=label,
        request_id=request.request_id,
        requested_at=request.requested_at,
        respond_by=request.respond_by,
        send_attempts=request.send_attempts,
        last_send_error=request.last_send_error,
        accepted_at=request.accepted_at,
        answer_received_at=stuck.received_at if stuck is not None else None,
        needs_attention_since=stuck.needs_attention_since if stuck is not None else None,
        delivery_attempts=stuck.attempts if stuck is not None else None,
    )


def received_warning(w: EarlyWarningRecord) -> ReceivedWarning:
    delivery = _delivery(w)
    return ReceivedWarning(
        department=w.department,
        warning_id=w.warning_id,
        id_number=mask_id_number(w.id_number) if w.id_number else None,  # lists never show it whole
        kind=w.kind,
        amount=w.amount,
        occurred_on=w.occurred_on,
        outcome=WarningOutcome(w.outcome),
        reason=w.reason,
        household_code=w.household_code,
        low_income=w.low_income,
        threshold=w.threshold,
        received_at=w.received_at,
        delivery_status=delivery,
        delivery_label=WARNING_DELIVERY_LABELS[delivery] if delivery else None,
        needs_attention_since=w.needs_attention_since if delivery == WarningDelivery.needs_attention else None,
        delivered_as=w.delivered_as,
        case_id=w.case_id,
    )


def _delivery(w: EarlyWarningRecord) -> WarningDelivery | None:
    """Only warnings that became leads (`opened`, `joined`) go to a case."""
    if w.outcome not in (WarningOutcome.opened, WarningOutcome.joined):
        return None
    if w.delivered_at is not None:
        return WarningDelivery.refused if w.delivered_as == WarningDelivery.refused else WarningDelivery.delivered
    return WarningDelivery.needs_attention if w.needs_attention_since is not None else WarningDelivery.pending
