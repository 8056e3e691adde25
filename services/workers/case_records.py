"""Activities that write a case's events into PostgreSQL.

Both writes are idempotent, so a retried activity never writes twice: the
audit entry is keyed by (case_id, seq), and the read model only moves forward
(an older event never overwrites a newer one, whatever order retries land in).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from services.db.tables import CaseRecord, Household
from services.domain.case_state import CaseEvent
from services.domain.vocabulary import HouseholdStatus, Outcome
from services.workers.read_model import audit_entry, forward_upsert
from services.workflows.identification import RECORD_CASE_EVENT


class CaseRecordActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name=RECORD_CASE_EVENT)
    async def record_case_event(self, event: CaseEvent) -> None:
        state = event.state
        row = {
            "case_id": state.case_id,
            "workflow_id": event.workflow_id,
            "run_id": event.run_id,
            "household_code": state.household_code,
            "county_code": state.county_code,
            "township_code": state.township_code,
            "village_code": state.village_code,
            "channel": state.channel,
            "step": state.step,
            "outcome": state.outcome,
            "policy_version": state.policy_version,
            "opened_at": state.opened_at,
            "due_at": state.due_at,
            "step_due_at": state.step_due_at,
            "closed_at": state.closed_at,
            "last_seq": event.seq,
            "state": state.model_dump(mode="json"),
        }
        upsert = forward_upsert(CaseRecord, ["case_id"], row)
        audit = audit_entry(state.case_id, event)
        async with self._engine.begin() as conn:
            await conn.execute(audit)
            await conn.execute(upsert)
            if state.outcome == Outcome.monitoring_target:
                category = state.verification.proposed_category if state.verification else None
                await conn.execute(
                    update(Household)
                    .where(Household.code == state.household_code)
                    .values(status=HouseholdStatus.risk_not_eliminated, category=category)
                )
