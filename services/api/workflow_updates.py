"""Acting on a workflow through an Update, and turning its refusals into HTTP answers.

The workflow's validators and handlers refuse with ApplicationErrors whose type
names the refusal (see services/workflows/procedure.py); here each becomes the
documented status and code. Shared by cases, monitoring periods and self-reports.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.api.errors import ApiError, workflow_unavailable
from services.db.tables import Account
from services.domain.identification.state import Actor
from services.domain.vocabulary import Role
from services.workflows.refusals import UNRECORDABLE

_REFUSAL_STATUS = {
    "WrongStep": 409,
    "AlreadyRecorded": 409,
    "NotOverdue": 409,
    "NotEligible": 409,
    "Forbidden": 403,
    "NotFound": 404,
    "Invalid": 422,
    UNRECORDABLE: 422,
}
_CODES = {
    "WrongStep": "wrong_step",
    "AlreadyRecorded": "already_recorded",
    "NotOverdue": "not_overdue",
    "NotEligible": "exit_criteria_unmet",
    "Forbidden": "forbidden",
    "NotFound": "not_found",
    "Invalid": "invalid",
    UNRECORDABLE: "unrecordable",
}


def actor_of(account: Account) -> Actor:
    return Actor(
        username=account.username,
        display_name=account.display_name,
        role=Role(account.role),
        area_code=account.area_code,
    )


def refusal(cause: BaseException | None, closed: ApiError) -> ApiError:
    if isinstance(cause, ApplicationError) and cause.type in _REFUSAL_STATUS:
        details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
        if cause.type == "Invalid":
            details = {"errors": [{"field": details.get("field", ""), "message": cause.message}]}
        return ApiError(_REFUSAL_STATUS[cause.type], _CODES[cause.type], cause.message, **details)
    if isinstance(cause, ApplicationError) and cause.type == "AcceptedUpdateCompletedWorkflow":
        return closed
    return workflow_unavailable()


async def run_update(handle: WorkflowHandle, update: Any, args: list[Any], update_id: str, closed: ApiError) -> Any:
    """Executes the Update with `args`; `closed` answers when the workflow has ended. A procedure's
    action takes one typed input (services/domain/update_inputs.py), so its `args` is that one."""
    try:
        return await handle.execute_update(update, args=args, id=update_id)
    except WorkflowUpdateFailedError as failure:
        raise refusal(failure.cause, closed) from failure
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise closed from error
        raise workflow_unavailable() from error
