"""The township's inbox of household self-reports: list, read, accept or reject.

Township approvers answer the applications of their township; once an application is past the
policy's acceptance days it is escalated, and county officers see it (`overdue=true`) and may
answer it too. Village cadres see their village's applications, read-only.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import list_scope, require_role, sees_personal_data, visible
from services.api.deps import CurrentAccount, IdempotencyKey, Resources, SessionDep
from services.api.errors import conflict
from services.api.idempotency import answer_once, fingerprint
from services.api.self_reports.schemas import SelfReportDetail, SelfReportPage
from services.api.self_reports.service import (
    application_closed,
    registered_household,
    self_report_page,
    staff_detail,
)
from services.api.tasks.claims import require_free_to_act
from services.api.workflow_updates import actor_of, run_update
from services.db.tables import Account, SelfReport
from services.domain.self_reports.model import Acceptance, ApplicationStatus
from services.domain.self_reports.tasks import DECIDE_SELF_REPORT
from services.domain.vocabulary import CASE_OPENING_ROLES, Role
from services.workflows.self_report import SelfReportWorkflow, self_report_workflow_id

router = APIRouter(prefix="/api/v1/self-reports", tags=["self-reports 农户申报受理"])


async def _visible(session: AsyncSession, account: Account, application_id: str) -> SelfReport:
    require_role(account, *CASE_OPENING_ROLES)
    return await visible(session, account, SelfReport, application_id, "没有找到这份申报，或它不在您的管辖区域内")


@router.get("", summary="农户申报列表")
async def list_self_reports(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码，默认本人辖区")] = None,
    status: ApplicationStatus | None = None,
    overdue: bool | None = Query(default=None, description="只看超过受理时限仍未受理（true）或其余（false）"),
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> SelfReportPage:
    """Newest first. Lists never show ID numbers or phones whole."""
    require_role(account, *CASE_OPENING_ROLES)
    return await self_report_page(session, list_scope(account, area), status, overdue, limit, cursor)


@router.get("/{application_id}", summary="农户申报详情")
async def get_self_report(application_id: str, account: CurrentAccount, session: SessionDep) -> SelfReportDetail:
    row = await _visible(session, account, application_id)
    return await staff_detail(session, row, sees_personal_data(account, row.village_code))


@router.post("/{application_id}/decision", response_model=SelfReportDetail, summary="受理或不予受理")
async def decide(
    application_id: str,
    body: Acceptance,
    request: Request,
    account: CurrentAccount,
    resources: Resources,
    session: SessionDep,
    key: IdempotencyKey,
) -> JSONResponse:
    """Accepting opens the household's identification case (channel self-report) or joins its open case.
    409 `household_not_registered`: register the household first (the head's ID number as applied).
    409 `task_claimed`: someone else has claimed this application's task in the inbox.
    Send `Idempotency-Key` to retry safely."""
    row = await _visible(session, account, application_id)
    require_role(account, Role.township_approver, Role.county_officer)
    await require_free_to_act(session, account, application_id, DECIDE_SELF_REPORT, None)

    async def produce() -> tuple[int, Any]:
        handle = resources.temporal.get_workflow_handle(self_report_workflow_id(application_id), run_id=row.run_id)
        update_id = f"{body.decision}:{key or uuid.uuid4().hex}"
        if body.decision == "accept":
            household = await registered_household(session, row.head_id_number)
            if household is None:
                raise conflict(
                    "household_not_registered",
                    "申报户尚未登记在农户档案中：请先登记该户（户主身份证号与申报一致），再受理",
                )
            args = [actor_of(account), household.code, household.village_code]
            await session.commit()  # hold no pooled connection while the workflow works
            await run_update(handle, SelfReportWorkflow.accept, args, update_id, closed=application_closed())
        else:
            await session.commit()
            await run_update(
                handle,
                SelfReportWorkflow.reject,
                [actor_of(account), body.reason],
                update_id,
                closed=application_closed(),
            )
        await session.refresh(row)
        return 200, await staff_detail(session, row, sees_personal_data(account, row.village_code))

    return await answer_once(session, account.username, key, await fingerprint(request), produce)
