"""What the county sees of the departments' work: the cross-check tasks waiting for a county
officer, and the early warnings received with their outcomes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from services.api.access import area_scope, require_role
from services.api.departments.schemas import CrossCheckTask, CrossCheckTasks, ReceivedWarning, ReceivedWarnings
from services.api.deps import CurrentAccount, SessionDep
from services.db.tables import CrossCheckCallbackRecord, CrossCheckRequestRecord, EarlyWarningRecord
from services.domain.areas import county_of
from services.domain.personal_data import mask_id_number
from services.domain.vocabulary import (
    ANSWER_NEEDS_ATTENTION,
    ANSWER_NEEDS_ATTENTION_LABEL,
    CROSS_CHECK_STATUS_LABELS,
    DEPARTMENT_LABELS,
    OFFICER_SEES,
    WARNING_DELIVERY_LABELS,
    CrossCheckStatus,
    Department,
    Role,
    WarningDelivery,
    WarningOutcome,
)

router = APIRouter(prefix="/api/v1", tags=["departments 部门配置"])


@router.get(
    "/cross-check-tasks", summary="待办：逾期、久未反馈、未配置部门或结果未能送达案件的信息比对（县乡村振兴局）"
)
async def cross_check_tasks(
    account: CurrentAccount, session: SessionDep, limit: int = Query(default=100, ge=1, le=500)
) -> CrossCheckTasks:
    """Each item is one department of one case, by `status`: `not_configured` or `overdue`:
    re-send it (`POST /cases/{id}/cross-check-resends`) or record its result by hand with a
    reason (`POST /cases/{id}/cross-check-results`); `silent`: the department accepted the
    request but has not answered within its re-ask time and was asked again (same request id),
    before its deadline; `needs_attention`: the department answered, but the case has not taken
    the answer after several tries (the service keeps retrying; `needs_attention_since`)."""
    require_role(account, Role.county_officer)
    in_area = area_scope(CrossCheckRequestRecord, account.area_code)
    requests = (
        await session.exec(
            select(CrossCheckRequestRecord)
            .where(
                in_area,
                CrossCheckRequestRecord.is_live,
                CrossCheckRequestRecord.is_latest,
                col(CrossCheckRequestRecord.status).in_([str(s) for s in OFFICER_SEES]),
            )
            .order_by(CrossCheckRequestRecord.respond_by)
            .limit(limit)
        )
    ).all()
    stuck = (
        await session.exec(
            select(CrossCheckRequestRecord, CrossCheckCallbackRecord)
            .join(
                CrossCheckCallbackRecord, col(CrossCheckCallbackRecord.request_id) == CrossCheckRequestRecord.request_id
            )
            .where(
                in_area,
                col(CrossCheckCallbackRecord.delivered_at).is_(None),
                col(CrossCheckCallbackRecord.needs_attention_since).is_not(None),
            )
            .order_by(CrossCheckRequestRecord.respond_by)
            .limit(limit)
        )
    ).all()
    items = {(r.case_id, r.department): _task(r) for r in requests}
    # An answer waiting for its case stands for the department, whatever its request's status.
    items |= {(r.case_id, r.department): _task(r, answer) for r, answer in stuck}
    return CrossCheckTasks(items=sorted(items.values(), key=lambda t: t.respond_by)[:limit])


def _task(request: CrossCheckRequestRecord, stuck: CrossCheckCallbackRecord | None = None) -> CrossCheckTask:
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


@router.get("/early-warnings", summary="已接收的部门预警及处理结果")
async def received_warnings(
    account: CurrentAccount,
    session: SessionDep,
    outcome: WarningOutcome | None = None,
    household_code: Annotated[str | None, Query(max_length=20)] = None,
    needs_attention: Annotated[bool | None, Query(description="只看案件暂时无法接收、系统正在重试的预警")] = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> ReceivedWarnings:
    require_role(account, Role.county_officer, Role.admin)
    query = select(EarlyWarningRecord).where(EarlyWarningRecord.county_code == county_of(account.area_code))
    if outcome is not None:
        query = query.where(EarlyWarningRecord.outcome == outcome)
    if household_code is not None:
        query = query.where(EarlyWarningRecord.household_code == household_code)
    if needs_attention is not None:
        stuck = col(EarlyWarningRecord.delivered_at).is_(None) & col(EarlyWarningRecord.needs_attention_since).is_not(
            None
        )
        query = query.where(stuck if needs_attention else ~stuck)
    rows = (await session.exec(query.order_by(col(EarlyWarningRecord.id).desc()).limit(limit))).all()
    return ReceivedWarnings(items=[_warning(w) for w in rows])


def _warning(w: EarlyWarningRecord) -> ReceivedWarning:
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
