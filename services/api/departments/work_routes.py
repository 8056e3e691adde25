"""What the county sees of the departments' work: the cross-check tasks waiting for a county
officer, and the early warnings received with their outcomes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api.access import require_role
from services.api.departments import service
from services.api.departments.schemas import CrossCheckTasks, ReceivedWarnings
from services.api.deps import CurrentAccount, SessionDep
from services.domain.areas import county_of
from services.domain.vocabulary import Role, WarningOutcome

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
    return await service.cross_check_tasks(session, account.area_code, limit)


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
    return await service.received_warnings(
        session, county_of(account.area_code), outcome, household_code, needs_attention, limit
    )
