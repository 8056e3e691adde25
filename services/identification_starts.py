"""Starting a household's identification case through Temporal, for the API (a person
opens a case) and the worker (a department's early warning, a risk found at a
monitoring visit, or an accepted self-report opens a case or joins the open one).

One open case per household: the workflow id is the household's, with the id-conflict
policy FAIL, so a second start, from anyone, is refused by Temporal itself; a closed
case may be followed by a new one. A start may carry a `start_key` (kept in the workflow's
memo): a start repeated with the same key is answered with the case the first one opened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from services.domain.identification.forms import Lead
from services.domain.identification.state import Actor, CaseStart, CaseState
from services.domain.update_inputs import StepInput
from services.workflows.identification import IdentificationWorkflow, identification_workflow_id
from services.workflows.refusals import UNRECORDABLE, UNRECORDABLE_MESSAGE


class CaseAlreadyOpen(Exception):
    """The household has an open case; `start_key` is what that case was opened with (its memo)."""

    def __init__(self, case_id: str | None, start_key: str | None) -> None:
        super().__init__(case_id)
        self.case_id, self.start_key = case_id, start_key


class CaseUnrecordable(ApplicationError):
    """PostgreSQL refused what a start or a lead carried: no case was opened (its workflow failed
    at once), no lead added. An ApplicationError, non-retryable: an activity meeting it stops trying."""

    def __init__(self) -> None:
        super().__init__(UNRECORDABLE_MESSAGE, type=UNRECORDABLE, non_retryable=True)


def unrecordable(error: BaseException | None) -> bool:
    return isinstance(error, ApplicationError) and error.type == UNRECORDABLE


def case_closed(error: BaseException) -> bool:
    """Whether an update failed because the case has closed (a new one may open instead)."""
    if isinstance(error, RPCError):
        return error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)
    if isinstance(error, WorkflowUpdateFailedError):
        cause = error.cause
        return isinstance(cause, ApplicationError) and cause.type in ("AcceptedUpdateCompletedWorkflow", "WrongStep")
    return False


async def open_case(client: Client, task_queue: str, start: CaseStart, start_key: str | None = None) -> CaseState:
    """Starts the case's workflow and answers once it is in the read model, so lists show it
    straight away. Raises CaseAlreadyOpen when the household has an open case, unless that case
    was opened with the same `start_key` (kept in the memo): then a retried or concurrent start
    gets that case. Raises CaseUnrecordable when PostgreSQL refused the start."""
    workflow_id = identification_workflow_id(start.household_code)
    try:
        handle: WorkflowHandle[Any, Any] = await client.start_workflow(
            IdentificationWorkflow.run,
            start,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            memo={"case_id": start.case_id, "start_key": start_key},
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(workflow_id)
        memo = await (await handle.describe()).memo()
        if start_key is None or memo.get("start_key") != start_key:
            raise CaseAlreadyOpen(memo.get("case_id"), memo.get("start_key")) from None
    return await _once_opened(handle)


async def _once_opened(handle: WorkflowHandle[Any, Any]) -> CaseState:
    try:
        return await handle.execute_update(IdentificationWorkflow.opened)
    except WorkflowUpdateFailedError as failure:
        if unrecordable(failure.cause):
            raise CaseUnrecordable() from None
        if not case_closed(failure):
            raise
    except RPCError as error:
        if not case_closed(error):
            raise
    # The workflow ended before the update reached it: a refused start fails it as Unrecordable.
    try:
        await handle.result()
    except WorkflowFailureError as failure:
        if unrecordable(failure.cause):
            raise CaseUnrecordable() from None
        raise
    return await handle.query(IdentificationWorkflow.state)  # its result names its last event only


async def open_or_join(
    client: Client,
    task_queue: str,
    start: CaseStart,
    lead: Lead,
    actor: Actor,
    start_key: str,
    before: Callable[[str], Awaitable[None]] | None = None,
) -> tuple[str, bool]:
    """Opens the case `start` describes, or adds `lead` (from `actor`) to the household's open
    case. Returns (case id, joined). Safe to repeat with the same `start_key`: a retry finds
    the case it opened (the key is in that case's memo) or the lead it added (the key makes
    the update id). `before` hears the id of each case about to be opened or joined, before it
    is: a caller that must be found when that case closes links itself there (self-reports).
    Raises CaseUnrecordable when PostgreSQL refuses the start or the lead."""
    handle = client.get_workflow_handle(identification_workflow_id(start.household_code))
    for _ in range(5):
        if before is not None:
            await before(start.case_id)
        try:  # a case an earlier attempt opened (same key) is answered here too
            return (await open_case(client, task_queue, start, start_key)).case_id, False
        except CaseAlreadyOpen as already:
            open_id = str(already.case_id)
        if before is not None:
            await before(open_id)
        try:
            joined = await handle.execute_update(
                IdentificationWorkflow.add_lead, StepInput(actor=actor, form=lead), id=f"lead:{start_key}"
            )
        except (RPCError, WorkflowUpdateFailedError) as error:
            if isinstance(error, WorkflowUpdateFailedError) and unrecordable(error.cause):
                raise CaseUnrecordable() from None
            if not case_closed(error):
                raise
            continue  # that case closed in between: open a new one
        if joined.case_id == open_id:
            return open_id, True
        # The lead went to a case opened after `open_id` closed: go round to confirm that one.
    raise RuntimeError(f"household {start.household_code}: its cases kept closing while a lead was added")
