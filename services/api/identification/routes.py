"""Cases: start, list, read, timeline, and one endpoint per action of the identification's
table (services/domain/identification/procedure.py).

Every route here reads, and writes only its idempotency record, one statement at a time (the
case itself is written by the workflow): their sessions are lone ones (`get_lone_session`)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import list_scope, require_role, sees_personal_data
from services.api.action_routes import add_action_routes, answer_with_state
from services.api.deps import IdempotencyKey, LoneAccount, LoneSessionDep, Resources
from services.api.errors import ErrorAnswer, invalid
from services.api.idempotency import answer_once, fingerprint
from services.api.identification.commands import act_on_case, case_opened_with, start_case, start_key
from services.api.identification.schemas import CaseOpen, CasePage, CaseTimeline, CaseView, ReviewInput
from services.api.identification.service import (
    MAX_WAIT_SECONDS,
    CaseFilter,
    CaseWait,
    case_after,
    case_page,
    case_to_act_on,
    visible_case,
)
from services.api.identification.views import case_view, review_input
from services.api.registry.policies import current_policy
from services.api.registry.service import visible_household
from services.api.tasks.claims import require_free_to_act
from services.api.timelines import timeline
from services.db.tables import Account
from services.domain.form_fields import INT4_MAX
from services.domain.identification.forms import CrossCheckEntry, CrossCheckResend
from services.domain.identification.procedure import IDENTIFICATION
from services.domain.vocabulary import CASE_OPENING_ROLES, Action, Step

router = APIRouter(prefix="/api/v1/cases", tags=["cases 识别案件"])


@router.post(
    "",
    status_code=201,
    response_model=CaseView,
    summary="发起识别（录入风险线索）",
    # The household is named in the body, not the path, so the app's rules do not add this one.
    responses={404: {"model": ErrorAnswer, "description": "没有找到该农户，或该农户不在您的管辖区域内"}},
)
async def open_case(
    body: CaseOpen,
    request: Request,
    account: LoneAccount,
    resources: Resources,
    session: LoneSessionDep,
    key: IdempotencyKey,
) -> JSONResponse:
    """Opens the identification case of a household. Answers 409 with the open case's id if it has one.
    With an `Idempotency-Key`, every attempt is answered with the case the first one opened."""
    require_role(account, *CASE_OPENING_ROLES)
    household = await visible_household(session, account, body.household_code)
    policy = await current_policy(session)
    keyed = start_key(account, key)

    async def produce() -> tuple[int, Any]:
        # A retry whose first attempt opened the case (and lost its answer) is given that case.
        if (opened := await case_opened_with(session, keyed)) is not None:
            return 201, case_view(opened.state, account)
        state = await start_case(
            resources.temporal,
            resources.settings.temporal_task_queue,
            account,
            household.code,
            household.village_code,
            body.channel,
            body.lead_note,
            policy,
            household.formerly_poor,
            keyed,
        )
        return 201, case_view(state.model_dump(mode="json"), account)

    return await answer_once(session, account.username, key, await fingerprint(request), produce)


@router.get("", summary="案件列表")
async def list_cases(
    account: LoneAccount,
    session: LoneSessionDep,
    area: Annotated[str | None, Query(description="区划代码（县、镇或村），默认本人辖区")] = None,
    step: Step | None = None,
    overdue: bool | None = Query(default=None, description="只看超期（true）或未超期（false）的在办案件"),
    open: bool | None = Query(default=None, description="在办（true）或已办结（false）"),
    household_code: str | None = Query(default=None, max_length=20),
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> CasePage:
    wanted = CaseFilter(list_scope(account, area), step, overdue, open, household_code)
    return await case_page(session, wanted, limit, cursor)


@router.get("/{case_id}", response_model=CaseView, summary="案件详情")
async def get_case(
    case_id: str,
    account: LoneAccount,
    session: LoneSessionDep,
    resources: Resources,
    after_seq: Annotated[int | None, Query(ge=0, le=INT4_MAX, description="只在案件的 seq 大于此数时返回")] = None,
    after_step: Annotated[Step | None, Query(description="只在案件离开此环节时返回（不与 after_seq 同用）")] = None,
    wait_seconds: Annotated[
        float,
        Query(ge=0, le=MAX_WAIT_SECONDS, description="与 after_seq 或 after_step 同用：最多等待这么多秒"),
    ] = 0,
) -> dict[str, Any]:
    """The case. With `after_seq` and `wait_seconds`: answered as soon as the case's `seq` passes
    `after_seq`, or as it is once `wait_seconds` have passed (a page showing the case keeps up with
    it in one request at a time, instead of asking again and again). With `after_step` instead of
    `after_seq`: as soon as the case has left that step (a client waiting for the next step is not
    answered at every department's answer of a cross-check)."""
    if after_seq is not None and after_step is not None:
        raise invalid("after_step", "after_seq 与 after_step 只能用其中一个")
    if (after_seq is None and after_step is None) or wait_seconds == 0:
        record = await visible_case(session, account, case_id)
    else:
        wait = CaseWait(after_seq, after_step)
        record = await case_after(session, account, case_id, wait, wait_seconds, resources.case_changes)
    return case_view(record.state, account)


@router.get(
    "/{case_id}/review-input",
    response_model=ReviewInput,
    summary="评议与审核参考：入户核查情况和各成员的部门比对结果",
)
async def get_review_input(case_id: str, account: LoneAccount, session: LoneSessionDep) -> dict[str, Any]:
    """What the democratic review and the township review weigh: the verification, and each
    department finding attached to the member it names (ID numbers masked for readers who do not need them)."""
    record = await visible_case(session, account, case_id)
    return review_input(case_view(record.state, account))


@router.get("/{case_id}/timeline", summary="办理记录（每一次操作）")
async def get_timeline(case_id: str, account: LoneAccount, session: LoneSessionDep) -> CaseTimeline:
    record = await visible_case(session, account, case_id)
    show_all = sees_personal_data(account, record.village_code)
    return CaseTimeline(case_id=case_id, entries=await timeline(session, case_id, show_all))


async def take_case_action(
    action: Action,
    case_id: str,
    form: BaseModel,
    item: int | None,
    request: Request,
    account: Account,
    resources: Resources,
    session: AsyncSession,
    key: str | None,
) -> JSONResponse:
    record = await case_to_act_on(session, account, case_id)
    require_role(account, *IDENTIFICATION.action(action).roles)
    await require_free_to_act(session, account, case_id, action, _task_subjects(form, item))
    return await answer_with_state(
        request,
        account,
        session,
        key,
        lambda: act_on_case(resources.temporal, session, record, action, account, form, item, key),
        case_view,
    )


def _task_subjects(form: BaseModel, item: int | None) -> list[str] | None:
    """Which of the case's tasks an action settles: the departments or objection it names."""
    if isinstance(form, CrossCheckEntry):
        return [str(r.department) for r in form.results]
    if isinstance(form, CrossCheckResend):
        return [str(form.department)]
    return [str(item)] if item is not None else None


_ACTION_DOC = (
    "Answers the case's new state. 409: the case is at another step (`current_step` names it); "
    "403: another role acts here; 422: a field is wrong (`errors` names it). Send `Idempotency-Key` to retry safely."
)
add_action_routes(router, "case_id", IDENTIFICATION, take_case_action, _ACTION_DOC, response_model=CaseView, lone=True)
