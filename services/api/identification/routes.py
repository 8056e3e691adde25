"""Cases: start, list, read, timeline, and one endpoint per action of the identification's
table (services/domain/identification/procedure.py)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import pagination
from services.api.access import area_scope, can_see, list_scope, require_role, sees_personal_data
from services.api.action_routes import add_action_routes, answer_with_state
from services.api.deps import CurrentAccount, IdempotencyKey, Resources, SessionDep
from services.api.errors import not_found
from services.api.idempotency import answer_once, fingerprint
from services.api.identification.commands import act_on_case, case_opened_with, start_case, start_key
from services.api.identification.views import case_view, deadline_flags, labels, review_input
from services.api.registry.policies import current_policy
from services.api.tasks.claims import require_free_to_act
from services.api.timelines import timeline
from services.db.tables import Account, CaseRecord, Household
from services.domain.form_fields import LongText, Text
from services.domain.identification.forms import CrossCheckEntry, CrossCheckResend
from services.domain.identification.procedure import IDENTIFICATION
from services.domain.vocabulary import CASE_OPENING_ROLES, Action, Channel, Step

router = APIRouter(prefix="/api/v1/cases", tags=["cases 识别案件"])


class CaseOpen(BaseModel):
    household_code: Text(20, min_length=1, strip=False) = Field(description="户编码")
    channel: Channel = Field(description="发现渠道")
    lead_note: LongText = Field(default="", description="线索说明")


async def _visible_case(session: AsyncSession, account: Account, case_id: str) -> CaseRecord:
    record = await session.get(CaseRecord, case_id) if len(case_id) <= 40 else None
    if record is None or not can_see(account, record.village_code):
        raise not_found("没有找到该案件，或该案件不在您的管辖区域内")
    return record


@router.post("", status_code=201, response_model=None, summary="发起识别（录入风险线索）")
async def open_case(
    body: CaseOpen,
    request: Request,
    account: CurrentAccount,
    resources: Resources,
    session: SessionDep,
    key: IdempotencyKey,
) -> JSONResponse:
    """Opens the identification case of a household. Answers 409 with the open case's id if it has one.
    With an `Idempotency-Key`, every attempt is answered with the case the first one opened."""
    require_role(account, *CASE_OPENING_ROLES)
    household = await session.get(Household, body.household_code)
    if household is None or not can_see(account, household.village_code):
        raise not_found("没有找到该农户，或该农户不在您的管辖区域内")
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
            keyed,
        )
        return 201, case_view(state.model_dump(mode="json"), account)

    return await answer_once(session, account.username, key, await fingerprint(request), produce)


@router.get("", summary="案件列表")
async def list_cases(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码（县、镇或村），默认本人辖区")] = None,
    step: Step | None = None,
    overdue: bool | None = Query(default=None, description="只看超期（true）或未超期（false）的在办案件"),
    open: bool | None = Query(default=None, description="在办（true）或已办结（false）"),
    household_code: str | None = Query(default=None, max_length=20),
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=200),
) -> dict[str, Any]:
    scope = list_scope(account, area)
    now = datetime.now(UTC)
    query = (
        select(CaseRecord, Household.head_name)
        .join(Household, Household.code == CaseRecord.household_code)
        .where(area_scope(CaseRecord, scope))
    )
    if step is not None:
        query = query.where(CaseRecord.step == step)
    if household_code is not None:
        query = query.where(CaseRecord.household_code == household_code)
    if open is not None:
        query = query.where(CaseRecord.closed_at.is_(None) if open else CaseRecord.closed_at.is_not(None))
    if overdue is not None:
        late = and_(CaseRecord.closed_at.is_(None), CaseRecord.due_at < now)
        query = query.where(late if overdue else ~late)
    if cursor is not None:
        opened_at, case_id = pagination.decode(cursor)
        query = query.where(
            or_(CaseRecord.opened_at < opened_at, and_(CaseRecord.opened_at == opened_at, CaseRecord.case_id < case_id))
        )
    query = query.order_by(CaseRecord.opened_at.desc(), CaseRecord.case_id.desc()).limit(limit + 1)
    rows = (await session.exec(query)).all()
    items = [_summary(record, head_name) for record, head_name in rows[:limit]]
    next_cursor = (
        pagination.encode(rows[limit - 1][0].opened_at, rows[limit - 1][0].case_id) if len(rows) > limit else None
    )
    return {"items": items, "next_cursor": next_cursor}


def _summary(record: CaseRecord, head_name: str) -> dict[str, Any]:
    state = record.state
    return {
        "case_id": record.case_id,
        "household_code": record.household_code,
        "head_name": head_name,
        "village_code": record.village_code,
        "channel": record.channel,
        "step": record.step,
        "outcome": record.outcome,
        "opened_at": record.opened_at,
        "due_at": record.due_at,
        "step_due_at": record.step_due_at,
        "closed_at": record.closed_at,
        **labels(state),
        **deadline_flags(state),
        "needs_attention": bool(state.get("needs_attention")),  # an action the database refused
    }


@router.get("/{case_id}", response_model=None, summary="案件详情")
async def get_case(case_id: str, account: CurrentAccount, session: SessionDep) -> dict[str, Any]:
    record = await _visible_case(session, account, case_id)
    return case_view(record.state, account)


@router.get("/{case_id}/review-input", summary="评议与审核参考：入户核查情况和各成员的部门比对结果")
async def get_review_input(case_id: str, account: CurrentAccount, session: SessionDep) -> dict[str, Any]:
    """What the democratic review and the township review weigh: the verification, and each
    department finding attached to the member it names (ID numbers masked for readers who do not need them)."""
    record = await _visible_case(session, account, case_id)
    return review_input(case_view(record.state, account))


@router.get("/{case_id}/timeline", summary="办理记录（每一次操作）")
async def get_timeline(case_id: str, account: CurrentAccount, session: SessionDep) -> dict[str, Any]:
    record = await _visible_case(session, account, case_id)
    show_all = sees_personal_data(account, record.village_code)
    return {"case_id": case_id, "entries": await timeline(session, case_id, show_all)}


async def _act(
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
    record = await _visible_case(session, account, case_id)
    require_role(account, *IDENTIFICATION.action(action).roles)
    await require_free_to_act(session, account, case_id, action, _task_subjects(form, item))
    return await answer_with_state(
        request,
        account,
        session,
        key,
        lambda: act_on_case(resources.temporal, record, action, account, form, item, key),
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
add_action_routes(router, "case_id", IDENTIFICATION, _act, _ACTION_DOC)
