"""From monitoring to identification: `open_identification_for_risk`, an activity of
MonitoringWorkflow. A risk found at a visit opens a fresh identification, or joins the
household's open case. Safe to repeat: `open_or_join` finds its own earlier work.

The other way round (a case's result handed to monitoring) is services/workers/monitoring/handover.py.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import Client

from services.db.households import formerly_poor
from services.db.policy_versions import current_policy
from services.domain.identification.forms import Lead
from services.domain.identification.state import CaseStart
from services.domain.monitoring.state import RiskLead
from services.identification_starts import open_or_join


class MonitoringIntake:
    def __init__(self, client: Client, engine: AsyncEngine, task_queue: str) -> None:
        self._client = client
        self._engine = engine
        self._task_queue = task_queue

    @activity.defn(name="open_identification_for_risk")
    async def open_identification_for_risk(self, lead: RiskLead) -> str:
        async with self._engine.connect() as conn:
            policy = await current_policy(conn)
            flagged = await formerly_poor(conn, lead.household_code)
        start = CaseStart(
            case_id=lead.case_id,
            household_code=lead.household_code,
            village_code=lead.village_code,
            channel=lead.channel,
            lead_note=lead.note,
            policy=policy,
            opened_by=lead.reported_by,
            formerly_poor=flagged,
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
