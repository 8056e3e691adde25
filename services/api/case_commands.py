"""Starting cases and acting on their steps, through Temporal.

The API checks who is asking (role, area) and the payload's shape; the workflow
decides whether the case's current step allows the action. Refusals from the
workflow come back as ApplicationErrors and are mapped to HTTP answers here.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from services.api.errors import ApiError, conflict, workflow_unavailable
from services.db.tables import Account, CaseRecord
from services.domain.case_state import Actor, CaseStart, CaseState
from services.domain.policy import Policy
from services.domain.vocabulary import Action, Channel, Role
from services.workflows.identification import IdentificationWorkflow, identification_workflow_id

# The workflow update behind each action.
ACTION_UPDATES = {
    Action.verify_home: IdentificationWorkflow.verify_home,
    Action.record_authorisation: IdentificationWorkflow.record_authorisation,
    Action.record_cross_check: IdentificationWorkflow.record_cross_check,
    Action.record_review: IdentificationWorkflow.record_review,
    Action.file_objection: IdentificationWorkflow.file_objection,
    Action.resolve_objection: IdentificationWorkflow.resolve_objection,
    Action.review_in_township: IdentificationWorkflow.review_in_township,
    Action.decide_in_county: IdentificationWorkflow.decide_in_county,
    Action.announce: IdentificationWorkflow.announce,
    Action.add_lead: IdentificationWorkflow.add_lead,
    Action.resend_cross_check: IdentificationWorkflow.resend_cross_check,
}

_REFUSAL_STATUS = {"WrongStep": 409, "AlreadyRecorded": 409, "NotOverdue": 409, "Forbidden": 403, "NotFound": 404,
                   "Invalid": 422}
_CODES = {"WrongStep": "wrong_step", "AlreadyRecorded": "already_recorded", "NotOverdue": "not_overdue",
          "Forbidden": "forbidden", "NotFound": "not_found", "Invalid": "invalid"}


class CaseAlreadyOpen(Exception):
    """The household has an open case; `start_key` is what that case was opened with (its memo)."""

    def __init__(self, case_id: str | None, start_key: str | None) -> None:
        super().__init__(case_id)
        self.case_id, self.start_key = case_id, start_key


def actor_of(account: Account) -> Actor:
    return Actor(
        username=account.username,
        display_name=account.display_name,
        role=Role(account.role),
        area_code=account.area_code,
    )


def _unavailable() -> ApiError:
    return workflow_unavailable()


async def start_case(
    client: Client,
    task_queue: str,
    account: Account,
    household_code: str,
    village_code: str,
    channel: Channel,
    lead_note: str,
    policy: Policy,
) -> CaseState:
    """Opens the household's identification case; 409 naming the open case if there is one."""
    start = CaseStart(
        case_id=uuid.uuid4().hex,
        household_code=household_code,
        village_code=village_code,
        channel=channel,
        lead_note=lead_note,
        policy=policy,
        opened_by=actor_of(account),
    )
    try:
        return await open_case(client, task_queue, start)
    except CaseAlreadyOpen as already:
        raise conflict("case_already_open", "该农户已有正在办理的识别案件，新线索请并入该案件", case_id=already.case_id)
    except RPCError as error:
        raise _unavailable() from error


async def open_case(client: Client, task_queue: str, start: CaseStart, start_key: str | None = None) -> CaseState:
    """Starts the case's workflow and answers once it is in the read model. Raises CaseAlreadyOpen
    when the household has an open case. `start_key` (kept in the memo) lets a retried start by
    the service recognise the case it opened itself."""
    workflow_id = identification_workflow_id(start.household_code)
    try:
        handle = await client.start_workflow(
            IdentificationWorkflow.run,
            start,
            id=workflow_id,
            task_queue=task_queue,
            # One open case per household, whoever starts it; a closed one may be followed by a new one.
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            memo={"case_id": start.case_id, "start_key": start_key},
        )
    except WorkflowAlreadyStartedError:
        memo = await (await client.get_workflow_handle(workflow_id).describe()).memo()
        raise CaseAlreadyOpen(memo.get("case_id"), memo.get("start_key")) from None
    # Answers once the case is in the read model, so lists show it straight away.
    return await handle.execute_update(IdentificationWorkflow.opened)


async def act_on_case(
    client: Client,
    record: CaseRecord,
    action: Action,
    account: Account,
    payload: list[Any],
    idempotency_key: str | None,
) -> CaseState:
    handle = client.get_workflow_handle(record.workflow_id, run_id=record.run_id)
    update_id = f"{action}:{idempotency_key}" if idempotency_key else f"{action}:{uuid.uuid4().hex}"
    args: list[Any] = [actor_of(account), *payload]
    return await execute_step(handle, ACTION_UPDATES[action], args, update_id,
                              closed=conflict("case_closed", "该案件已办结，不能再办理"))


async def execute_step(handle: WorkflowHandle[Any, Any], update: Any, args: list[Any], update_id: str,
                       closed: ApiError) -> Any:
    """Runs a step's Workflow Update; refusals become API errors, `closed` when the workflow has ended."""
    try:
        return await handle.execute_update(update, args=args, id=update_id)
    except WorkflowUpdateFailedError as failure:
        raise _refusal(failure.cause, closed) from failure
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise closed from error
        raise _unavailable() from error


def _refusal(cause: BaseException | None, closed: ApiError) -> ApiError:
    if isinstance(cause, ApplicationError) and cause.type in _REFUSAL_STATUS:
        details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
        if cause.type == "Invalid":
            details = {"errors": [{"field": details.get("field", ""), "message": cause.message}]}
        return ApiError(_REFUSAL_STATUS[cause.type], _CODES[cause.type], cause.message, **details)
    if isinstance(cause, ApplicationError) and cause.type == "AcceptedUpdateCompletedWorkflow":
        return closed
    return _unavailable()
