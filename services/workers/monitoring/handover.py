"""From identification to monitoring: `tell_monitoring_case_ended`, the activity the identification
workflow runs once its closing is recorded, so that the case's history shows the hand-over (and
its result). A `monitoring_target` result starts the household's monitoring workflow, or tells the
running one (Signal-with-Start: one call does either); any other result is told to a running
monitoring workflow (an open risk it tracked has ended) and is nothing to a household that is not
monitored. It reads the policy in force: a new monitoring period takes the current version.

Safe to repeat: the monitoring id comes from the calling workflow (the same on every retry), and
the monitoring workflow ignores a case it already knows.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from services.db.engine import standalone
from services.db.policy_versions import current_policy
from services.domain.monitoring.state import IdentificationSummary, MonitoringStart
from services.domain.vocabulary import Outcome
from services.workflows.contracts import IDENTIFICATION_CONCLUDED, MONITORING_WORKFLOW, monitoring_workflow_id


class CaseEnded(BaseModel):
    """A closed case, and the id its household's monitoring period gets if this case starts one."""

    case: IdentificationSummary
    monitoring_id: str


class HandOver(StrEnum):
    """What the monitoring made of a closed case (the activity's result, in the case's history)."""

    started_or_continued = "started_or_continued"  # a monitoring target: monitoring runs now
    told = "told"  # the household's running monitoring heard the result
    not_monitored = "not_monitored"  # no monitoring runs for the household: nothing to tell


class MonitoringHandOver:
    def __init__(self, client: Client, engine: AsyncEngine, task_queue: str) -> None:
        self._client = client
        self._engine = standalone(engine)  # one lookup
        self._task_queue = task_queue

    @activity.defn(name="tell_monitoring_case_ended")
    async def tell_monitoring_case_ended(self, ended: CaseEnded) -> HandOver:
        case = ended.case
        async with self._engine.connect() as conn:
            policy = await current_policy(conn)
        start = MonitoringStart(
            monitoring_id=ended.monitoring_id,
            household_code=case.household_code,
            village_code=case.village_code,
            policy=policy,
            identification=case,
        )
        workflow_id = monitoring_workflow_id(case.household_code)
        if case.outcome == Outcome.monitoring_target:
            await self._client.start_workflow(
                MONITORING_WORKFLOW,
                start,
                id=workflow_id,
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                start_signal=IDENTIFICATION_CONCLUDED,
                start_signal_args=[start],
            )
            return HandOver.started_or_continued
        try:
            await self._client.get_workflow_handle(workflow_id).signal(IDENTIFICATION_CONCLUDED, start)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return HandOver.not_monitored
        return HandOver.told
