"""Acting on a monitoring period through its workflow's Updates.

The API checks who is asking (role, area) and the payload's shape; the workflow
decides whether the period's state allows the action. The workflow is addressed by
id alone (no run id): it continues as new over the years.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from temporalio.client import Client

from services.api.errors import ApiError, not_found
from services.api.workflow_updates import actor_of, run_update
from services.db.tables import Account, MonitoringRecord
from services.domain.identification.state import Actor
from services.domain.monitoring.forms import SupportAppointment
from services.domain.monitoring.procedure import MONITORING
from services.domain.monitoring.state import MonitoringState
from services.domain.monitoring.vocabulary import MonitoringAction
from services.domain.update_inputs import AppointmentInput, PeriodInput, PeriodItemInput
from services.workflows.monitoring import MonitoringWorkflow

# The workflow Update behind each action, as the table names it.
MONITORING_UPDATES = {spec.action: getattr(MonitoringWorkflow, spec.update_name) for spec in MONITORING.actions}


def update_input(
    record: MonitoringRecord, actor: Actor, form: BaseModel, item: int | None, appointee: Actor | None
) -> BaseModel:
    """The action's one input: the period, who acts, the form, and the numbered item (a plan, a
    measure, an objection) or the appointee it names."""
    period = record.monitoring_id
    if appointee is not None:
        assert isinstance(form, SupportAppointment)
        return AppointmentInput(monitoring_id=period, actor=actor, appointee=appointee, form=form)
    if item is not None:
        return PeriodItemInput(monitoring_id=period, actor=actor, item=item, form=form)
    return PeriodInput(monitoring_id=period, actor=actor, form=form)


async def act_on_monitoring(
    client: Client,
    record: MonitoringRecord,
    action: MonitoringAction,
    account: Account,
    form: BaseModel,
    item: int | None,
    idempotency_key: str | None,
    appointee: Actor | None = None,
) -> MonitoringState:
    handle = client.get_workflow_handle(record.workflow_id)
    update_id = f"{action}:{idempotency_key}" if idempotency_key else f"{action}:{uuid.uuid4().hex}"
    given = update_input(record, actor_of(account), form, item, appointee)
    return await run_update(handle, MONITORING_UPDATES[action], [given], update_id, _gone())


def _gone() -> ApiError:
    return not_found("该户的监测流程已不存在，请联系系统管理员")
