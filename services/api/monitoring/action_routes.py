"""Acting on a monitoring period: support person, plan, deliveries, visits, the exit procedure
and its reversal — one endpoint per action, each a workflow Update."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import require_role
from services.api.action_routes import add_form_route, answer_with_state
from services.api.deps import AppResources, CurrentAccount, IdempotencyKey, Resources, SessionDep
from services.api.errors import invalid
from services.api.monitoring.commands import act_on_monitoring
from services.api.monitoring.routes import visible_period
from services.api.monitoring.views import monitoring_view
from services.api.tasks.claims import require_free_to_act
from services.api.workflow_updates import actor_of
from services.db.tables import Account
from services.domain.identification.forms import (
    CountyDecision,
    DemocraticReview,
    Objection,
    ObjectionResolution,
    TownshipReview,
)
from services.domain.monitoring.forms import (
    ExitProposal,
    ExitReversal,
    ExitVerification,
    MeasureDelivery,
    PlanDraft,
    SupportAppointment,
    Visit,
)
from services.domain.monitoring.vocabulary import MONITORING_RULES, MonitoringAction

router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring 监测帮扶"])

_DOC = (
    "Answers the period's new state. 409: the period is not at a point where this is done (`current_step`); "
    "403: another role, or not the household's support person; 422: a field is wrong (`errors`). "
    "Send `Idempotency-Key` to retry safely."
)
Number = Annotated[int, Path(ge=1, le=10_000)]


async def _act(
    action: MonitoringAction,
    monitoring_id: str,
    payload: list[Any],
    request: Request,
    account: Account,
    resources: AppResources,
    session: AsyncSession,
    key: str | None,
) -> JSONResponse:
    record = await visible_period(session, account, monitoring_id)
    require_role(account, MONITORING_RULES[action].role)
    await require_free_to_act(session, account, monitoring_id, action, None)
    return await answer_with_state(
        request,
        account,
        session,
        key,
        lambda: act_on_monitoring(resources.temporal, record, action, account, payload, key),
        monitoring_view,
    )


_ACTIONS = [
    (MonitoringAction.submit_plan, "plans", PlanDraft, "提交帮扶计划（一户一策）"),
    (MonitoringAction.record_visit, "visits", Visit, "录入走访"),
    (MonitoringAction.propose_exit, "exit/proposal", ExitProposal, "提出风险消除"),
    (MonitoringAction.verify_exit, "exit/home-verification", ExitVerification, "风险消除：入户核实"),
    (MonitoringAction.review_exit, "exit/democratic-review", DemocraticReview, "风险消除：民主评议"),
    (MonitoringAction.file_exit_objection, "exit/objections", Objection, "风险消除：登记公示异议"),
    (MonitoringAction.review_exit_in_township, "exit/township-review", TownshipReview, "风险消除：镇审核"),
    (MonitoringAction.decide_exit_in_county, "exit/county-decision", CountyDecision, "风险消除：县级审定"),
    (MonitoringAction.reverse_exit, "exit-reversal", ExitReversal, "回退风险消除标注（县级）"),
]
for _action, _path, _form, _title in _ACTIONS:
    add_form_route(
        router,
        "monitoring_id",
        _path,
        _form,
        partial(_act, _action),
        summary=_title,
        description=_DOC,
        name=_action.value,
    )


@router.post(
    "/{monitoring_id}/support-person", response_model=None, summary="任命帮扶责任人（镇审核）", description=_DOC
)
async def appoint_support_person(
    monitoring_id: str,
    form: SupportAppointment,
    request: Request,
    account: CurrentAccount,
    resources: Resources,
    session: SessionDep,
    key: IdempotencyKey,
) -> JSONResponse:
    """The appointee is a village cadre account of the household's village."""
    appointee = await session.get(Account, form.username)
    if appointee is None or appointee.disabled:
        raise invalid("username", "没有这个账号，或该账号已停用")
    return await _act(
        MonitoringAction.appoint_support_person,
        monitoring_id,
        [actor_of(appointee), form],
        request,
        account,
        resources,
        session,
        key,
    )


@router.post(
    "/{monitoring_id}/plans/{plan_no}/review", response_model=None, summary="审核帮扶计划（镇审核）", description=_DOC
)
async def review_plan(
    monitoring_id: str,
    plan_no: Number,
    review: TownshipReview,
    request: Request,
    account: CurrentAccount,
    resources: Resources,
    session: SessionDep,
    key: IdempotencyKey,
) -> JSONResponse:
    return await _act(
        MonitoringAction.review_plan, monitoring_id, [plan_no, review], request, account, resources, session, key
    )


@router.post(
    "/{monitoring_id}/measures/{measure_id}/delivery", response_model=None, summary="登记措施落实", description=_DOC
)
async def deliver_measure(
    monitoring_id: str,
    measure_id: Number,
    delivery: MeasureDelivery,
    request: Request,
    account: CurrentAccount,
    resources: Resources,
    session: SessionDep,
    key: IdempotencyKey,
) -> JSONResponse:
    return await _act(
        MonitoringAction.deliver_measure,
        monitoring_id,
        [measure_id, delivery],
        request,
        account,
        resources,
        session,
        key,
    )


@router.post(
    "/{monitoring_id}/exit/objections/{objection_id}/resolution",
    response_model=None,
    summary="风险消除：异议核实结论",
    description=_DOC,
)
async def resolve_exit_objection(
    monitoring_id: str,
    objection_id: Number,
    resolution: ObjectionResolution,
    request: Request,
    account: CurrentAccount,
    resources: Resources,
    session: SessionDep,
    key: IdempotencyKey,
) -> JSONResponse:
    return await _act(
        MonitoringAction.resolve_exit_objection,
        monitoring_id,
        [objection_id, resolution],
        request,
        account,
        resources,
        session,
        key,
    )
