"""Acting on a monitoring period: support person, plan, deliveries, visits, the exit procedure
and its reversal — one endpoint per action of the table (services/domain/monitoring/procedure.py),
each a workflow Update."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import require_role
from services.api.action_routes import add_action_routes, answer_with_state
from services.api.deps import AppResources, CurrentAccount, IdempotencyKey, Resources, SessionDep
from services.api.errors import invalid
from services.api.monitoring.commands import act_on_monitoring
from services.api.monitoring.routes import visible_period
from services.api.monitoring.schemas import MonitoringView
from services.api.monitoring.views import monitoring_view
from services.api.tasks.claims import require_free_to_act
from services.api.workflow_updates import actor_of
from services.db.tables import Account
from services.domain.monitoring.forms import SupportAppointment
from services.domain.monitoring.procedure import MONITORING
from services.domain.monitoring.vocabulary import MonitoringAction

router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring 监测帮扶"])

_DOC = (
    "Answers the period's new state. 409: the period is not at a point where this is done (`current_step`); "
    "403: another role, or not the household's support person; 422: a field is wrong (`errors`). "
    "Send `Idempotency-Key` to retry safely."
)


async def take_monitoring_action(
    action: MonitoringAction,
    monitoring_id: str,
    form: BaseModel,
    item: int | None,
    request: Request,
    account: Account,
    resources: AppResources,
    session: AsyncSession,
    key: str | None,
    **named: Any,
) -> JSONResponse:
    record = await visible_period(session, account, monitoring_id)
    require_role(account, *MONITORING.action(action).roles)
    await require_free_to_act(session, account, monitoring_id, action, None)
    return await answer_with_state(
        request,
        account,
        session,
        key,
        lambda: act_on_monitoring(resources.temporal, record, action, account, form, item, key, **named),
        monitoring_view,
    )


_APPOINT = MONITORING.action(MonitoringAction.appoint_support_person)
add_action_routes(
    router,
    "monitoring_id",
    MONITORING,
    take_monitoring_action,
    _DOC,
    response_model=MonitoringView,
    except_for={_APPOINT.action},
)


@router.post(
    f"/{{monitoring_id}}/{_APPOINT.path}",
    response_model=MonitoringView,
    summary=_APPOINT.title,
    description=_DOC,
    name=str(_APPOINT.action),
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
    return await take_monitoring_action(
        _APPOINT.action,
        monitoring_id,
        form,
        None,
        request,
        account,
        resources,
        session,
        key,
        appointee=actor_of(appointee),
    )
