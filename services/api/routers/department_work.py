"""What the county sees of the departments' work: the cross-check tasks waiting for a county
officer, and the early warnings received with their outcomes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlmodel import select

from services.api.access import area_scope, require_role
from services.api.deps import CurrentAccount, SessionDep
from services.db.tables import CrossCheckRequestRecord, EarlyWarningRecord
from services.domain.areas import county_of
from services.domain.personal_data import mask_id_number
from services.domain.vocabulary import (
    CROSS_CHECK_STATUS_LABELS,
    DEPARTMENT_LABELS,
    NEEDS_OFFICER,
    CrossCheckStatus,
    Department,
    Role,
    WarningOutcome,
)

router = APIRouter(prefix="/api/v1", tags=["departments 部门配置"])


@router.get("/cross-check-tasks", summary="待办：逾期或未配置部门的信息比对（县乡村振兴局）")
async def cross_check_tasks(account: CurrentAccount, session: SessionDep,
                            limit: int = Query(default=100, ge=1, le=500)) -> dict[str, Any]:
    """Each item is one department of one case: re-send it (`POST /cases/{id}/cross-check-resends`)
    or record its result by hand with a reason (`POST /cases/{id}/cross-check-results`)."""
    require_role(account, Role.county_officer)
    rows = (await session.exec(
        select(CrossCheckRequestRecord)
        .where(area_scope(CrossCheckRequestRecord, account.area_code), CrossCheckRequestRecord.is_live,
               CrossCheckRequestRecord.is_latest, CrossCheckRequestRecord.status.in_([str(s) for s in NEEDS_OFFICER]))
        .order_by(CrossCheckRequestRecord.respond_by).limit(limit)
    )).all()
    return {"items": [{
        "case_id": r.case_id,
        "household_code": r.household_code,
        "village_code": r.village_code,
        "department": r.department,
        "department_label": DEPARTMENT_LABELS[Department(r.department)],
        "status": r.status,
        "status_label": CROSS_CHECK_STATUS_LABELS[CrossCheckStatus(r.status)],
        "request_id": r.request_id,
        "requested_at": r.requested_at,
        "respond_by": r.respond_by,
        "send_attempts": r.send_attempts,
        "last_send_error": r.last_send_error,
        "accepted_at": r.accepted_at,
    } for r in rows]}


@router.get("/early-warnings", summary="已接收的部门预警及处理结果")
async def received_warnings(
    account: CurrentAccount, session: SessionDep,
    outcome: WarningOutcome | None = None,
    household_code: Annotated[str | None, Query(max_length=20)] = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> dict[str, Any]:
    require_role(account, Role.county_officer, Role.admin)
    query = select(EarlyWarningRecord).where(EarlyWarningRecord.county_code == county_of(account.area_code))
    if outcome is not None:
        query = query.where(EarlyWarningRecord.outcome == outcome)
    if household_code is not None:
        query = query.where(EarlyWarningRecord.household_code == household_code)
    rows = (await session.exec(query.order_by(EarlyWarningRecord.id.desc()).limit(limit))).all()
    return {"items": [{
        "department": w.department,
        "warning_id": w.warning_id,
        "id_number": mask_id_number(w.id_number) if w.id_number else None,  # lists never show it whole
        "kind": w.kind,
        "amount": w.amount,
        "occurred_on": w.occurred_on,
        "outcome": w.outcome,
        "reason": w.reason,
        "household_code": w.household_code,
        "low_income": w.low_income,
        "threshold": w.threshold,
        "received_at": w.received_at,
        "delivered_as": w.delivered_as,
        "case_id": w.case_id,
    } for w in rows]}
