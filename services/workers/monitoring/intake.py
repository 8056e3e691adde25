"""Between identification and monitoring, through the Temporal client.

- `case_recorded` (called by the `record_case_event` activity once an event is in
  PostgreSQL): a case opened on a monitored household → tell its monitoring workflow (an
  open risk); a case ended → hand its result over; a `monitoring_target` result starts the
  household's monitoring workflow if none runs (Signal-with-Start: one call either starts it
  or signals the running one). Riding on the record activity costs a case no extra activity,
  and leaves IdentificationWorkflow as it was.
- `open_identification_for_risk` (activity of MonitoringWorkflow): a risk found at a visit
  opens a fresh identification, or joins the household's open case.

Both are safe to repeat: the monitoring workflow ignores a case it already knows, and
`open_or_join` finds its own earlier work.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from services.db.policy_versions import current_policy
from services.domain.identification.forms import Lead
from services.domain.identification.state import CaseStart
from services.domain.monitoring.state import IdentificationSummary, MonitoringStart, RiskLead
from services.domain.policy import Policy
from services.domain.vocabulary import HouseholdStatus, Outcome
from services.identification_starts import open_or_join
from services.workers.identification.records import RecordedCase
from services.workflows.monitoring import (
    IDENTIFICATION_CONCLUDED,
    IDENTIFICATION_OPENED,
    OPEN_IDENTIFICATION_FOR_RISK,
    MonitoringWorkflow,
    monitoring_workflow_id,
)

OPEN_CASE = "open_case"


class MonitoringIntake:
    def __init__(self, client: Client, engine: AsyncEngine, task_queue: str) -> None:
        self._client = client
        self._engine = engine
        self._task_queue = task_queue

    async def case_recorded(self, recorded: RecordedCase) -> None:
        """What the household's monitoring must hear of this case event, if anything."""
        event = recorded.event
        case = IdentificationSummary.of(event.state)
        monitored = recorded.household_status == HouseholdStatus.risk_not_eliminated
        workflow_id = monitoring_workflow_id(case.household_code)
        if event.action == OPEN_CASE and monitored:
            await self._signal_if_running(workflow_id, IDENTIFICATION_OPENED, case)
        if case.closed_at is None or not (monitored or case.outcome == Outcome.monitoring_target):
            return
        start = MonitoringStart(
            monitoring_id=uuid.uuid4().hex,
            household_code=case.household_code,
            village_code=case.village_code,
            policy=await self._policy(),
            identification=case,
        )
        if case.outcome != Outcome.monitoring_target:
            await self._signal_if_running(workflow_id, IDENTIFICATION_CONCLUDED, start)
            return
        await self._client.start_workflow(
            MonitoringWorkflow.run,
            start,
            id=workflow_id,
            task_queue=self._task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            start_signal=IDENTIFICATION_CONCLUDED,
            start_signal_args=[start],
        )

    @activity.defn(name=OPEN_IDENTIFICATION_FOR_RISK)
    async def open_identification_for_risk(self, lead: RiskLead) -> str:
        start = CaseStart(
            case_id=lead.case_id,
            household_code=lead.household_code,
            village_code=lead.village_code,
            channel=lead.channel,
            lead_note=lead.note,
            policy=await self._policy(),
            opened_by=lead.reported_by,
        )
        further = Lead(channel=lead.channel, note=lead.note)
        case_id, _ = await open_or_join(
            self._client,
            self._task_queue,
            start,
            further,
            lead.reported_by,
            start_key=f"monitoring-risk:{lead.case_id}",
        )
        return case_id

    async def _signal_if_running(self, workflow_id: str, signal: str, arg: object) -> None:
        try:
            await self._client.get_workflow_handle(workflow_id).signal(signal, arg)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:  # not monitored: nothing to tell
                raise

    async def _policy(self) -> Policy:
        async with self._engine.connect() as conn:
            return await current_policy(conn)
