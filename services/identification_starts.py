"""Starting a household's identification case through Temporal, for the API (a person
opens a case) and the worker (a risk found at a monitoring visit opens one).

One open case per household: the workflow id is the household's, with the id-conflict
policy FAIL, so a second start, from anyone, is refused by Temporal itself; a closed
case may be followed by a new one.
"""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from services.domain.case_forms import Lead
from services.domain.case_state import Actor, CaseStart
from services.workflows.identification import IdentificationWorkflow, identification_workflow_id

# Refusals that mean "that case has just closed": a new one may open instead.
_CLOSED = {"WrongStep", "AcceptedUpdateCompletedWorkflow"}


async def start_identification(client: Client, task_queue: str, start: CaseStart) -> WorkflowHandle:
    """Starts the case; raises WorkflowAlreadyStartedError while the household has an open one."""
    return await client.start_workflow(
        IdentificationWorkflow.run,
        start,
        id=identification_workflow_id(start.household_code),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        memo={"case_id": start.case_id},
    )


async def open_case_id(client: Client, household_code: str) -> str | None:
    """The id of the household's running (or latest) case, from the workflow's memo."""
    description = await client.get_workflow_handle(identification_workflow_id(household_code)).describe()
    return (await description.memo()).get("case_id")


async def open_or_join(client: Client, task_queue: str, start: CaseStart, lead: Lead, actor: Actor) -> tuple[str, bool]:
    """Opens the case `start` describes, or adds `lead` to the household's open case.
    Returns (case id, joined). Safe to repeat: the new case's id and the lead's update id
    are fixed by `start.case_id`, so a retry finds its own earlier work."""
    for _ in range(5):
        try:
            await (await start_identification(client, task_queue, start)).execute_update(IdentificationWorkflow.opened)
            return start.case_id, False
        except WorkflowAlreadyStartedError:
            pass
        open_id = await open_case_id(client, start.household_code)
        handle = client.get_workflow_handle(identification_workflow_id(start.household_code))
        if open_id == start.case_id:  # started by an earlier attempt
            await handle.execute_update(IdentificationWorkflow.opened)
            return start.case_id, False
        try:
            await handle.execute_update(IdentificationWorkflow.add_lead, args=[actor, lead], id=f"lead:{start.case_id}")
            return str(open_id), True
        except WorkflowUpdateFailedError as failure:
            if not (isinstance(failure.cause, ApplicationError) and failure.cause.type in _CLOSED):
                raise
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
    raise RuntimeError(f"household {start.household_code}: its cases kept closing while a lead was added")
