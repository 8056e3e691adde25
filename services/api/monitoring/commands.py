"""Acting on a monitoring period through its workflow's Updates.

The API checks who is asking (role, area) and the payload's shape; the workflow
decides whether the period's state allows the action. The workflow is addressed by
id alone (no run id): it continues as new over the years.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.client import Client

from services.api.errors import ApiError, not_found
from services.api.workflow_updates import actor_of, run_update
from services.db.tables import Account, MonitoringRecord
from services.domain.monitoring.state import MonitoringState
from services.domain.monitoring.vocabulary import MonitoringAction
from services.workflows.monitoring import MonitoringWorkflow

MONITORING_UPDATES = {
    MonitoringAction.appoint_support_person: MonitoringWorkflow.appoint_support_person,
    MonitoringAction.submit_plan: MonitoringWorkflow.submit_plan,
    MonitoringAction.review_plan: MonitoringWorkflow.review_plan,
    MonitoringAction.deliver_measure: MonitoringWorkflow.deliver_measure,
    MonitoringAction.record_visit: MonitoringWorkflow.record_visit,
    MonitoringAction.propose_exit: MonitoringWorkflow.propose_exit,
    MonitoringAction.verify_exit: MonitoringWorkflow.verify_exit,
    MonitoringAction.review_exit: MonitoringWorkflow.review_exit,
    MonitoringAction.file_exit_objection: MonitoringWorkflow.file_exit_objection,
    MonitoringAction.resolve_exit_objection: MonitoringWorkflow.resolve_exit_objection,
    MonitoringAction.review_exit_in_township: MonitoringWorkflow.review_exit_in_township,
    MonitoringAction.decide_exit_in_county: MonitoringWorkflow.decide_exit_in_county,
    MonitoringAction.reverse_exit: MonitoringWorkflow.reverse_exit,
}


async def act_on_monitoring(
    client: Client,
    record: MonitoringRecord,
    action: MonitoringAction,
    account: Account,
    payload: list[Any],
    idempotency_key: str | None,
) -> MonitoringState:
    handle = client.get_workflow_handle(record.workflow_id)
    update_id = f"{action}:{idempotency_key}" if idempotency_key else f"{action}:{uuid.uuid4().hex}"
    args: list[Any] = [record.monitoring_id, actor_of(account), *payload]
    return await run_update(handle, MONITORING_UPDATES[action], args, update_id, _gone())


def _gone() -> ApiError:
    return not_found("该户的监测流程已不存在，请联系系统管理员")
