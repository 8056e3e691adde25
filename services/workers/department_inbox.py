"""Hands what departments sent to the cases: the worker's inbox forwarder.

The API stores each department result (`cross_check_callbacks`) and each early warning
that becomes a lead (`early_warnings`) in PostgreSQL, answers the department, and
notifies the channel `department_inbox`. This forwarder runs beside the worker: it
claims undelivered rows of its own task queue (FOR UPDATE SKIP LOCKED, so several
workers share the work), delivers each to its case through Temporal, and marks it
delivered with what the case made of it. A claim expires, so a delivery cut short by a
crash is made again; deliveries are idempotent (update ids and the start key derive
from the row), so nothing is delivered twice. A lost notification only delays
delivery until the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from services.db.engine import session_factory
from services.db.policy_versions import current_policy
from services.domain.case_forms import CrossCheckResult, Lead
from services.domain.case_state import Actor, CaseStart
from services.domain.early_warning import lead_note
from services.domain.policy import Policy
from services.domain.vocabulary import Channel, DepartmentKind, WarningKind
from services.identification_starts import case_closed, open_or_join
from services.workflows.identification import IdentificationWorkflow

log = logging.getLogger("services.department_inbox")

INBOX_CHANNEL = "department_inbox"
NOTIFY_INBOX = text(f"SELECT pg_notify('{INBOX_CHANNEL}', '')")
_POLL_SECONDS = 5.0
_CLAIM_SECONDS = 60
_BATCH = 100
_PARALLEL = 16

_CLAIM_RESULTS = text("""
    UPDATE cross_check_callbacks c
    SET claimed_until = now() + make_interval(secs => :claim), attempts = c.attempts + 1
    WHERE c.request_id IN (
        SELECT request_id FROM cross_check_callbacks
        WHERE delivered_at IS NULL AND task_queue = :queue AND (claimed_until IS NULL OR claimed_until < now())
        ORDER BY received_at LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING c.request_id, c.workflow_id, c.run_id, c.result, c.attempts
""")
_RESULT_DELIVERED = text("""
    UPDATE cross_check_callbacks SET delivered_at = now(), delivery_outcome = :outcome, claimed_until = NULL
    WHERE request_id = :key
""")
_RESULT_LATER = text("""
    UPDATE cross_check_callbacks SET claimed_until = now() + make_interval(secs => :wait) WHERE request_id = :key
""")
_CLAIM_WARNINGS = text("""
    UPDATE early_warnings w
    SET claimed_until = now() + make_interval(secs => :claim), attempts = w.attempts + 1
    FROM households h
    WHERE h.code = w.household_code AND w.id IN (
        SELECT id FROM early_warnings
        WHERE outcome IN ('opened', 'joined') AND delivered_at IS NULL AND task_queue = :queue
          AND (claimed_until IS NULL OR claimed_until < now())
        ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING w.id, w.department, w.county_code, w.warning_id, w.kind, w.amount, w.occurred_on, w.detail,
              w.household_code, w.attempts, h.village_code
""")
_WARNING_DELIVERED = text("""
    UPDATE early_warnings SET delivered_at = now(), delivered_as = :outcome, case_id = :case_id, claimed_until = NULL
    WHERE id = :key
""")
_WARNING_LATER = text("UPDATE early_warnings SET claimed_until = now() + make_interval(secs => :wait) WHERE id = :key")


def _retry_wait(attempts: int) -> int:
    return min(2 ** attempts, 300)


class DepartmentInbox:
    def __init__(self, engine: AsyncEngine, client: Client, task_queue: str) -> None:
        self._engine, self._client, self._queue = engine, client, task_queue
        self._sessions = session_factory(engine)
        self._gate = asyncio.Semaphore(_PARALLEL)

    async def run(self) -> None:
        """Delivers until cancelled; a lost database connection is re-opened after a pause."""
        while True:
            try:
                await self._listen_and_deliver()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("department inbox forwarder failed; restarting in 5 s")
                await asyncio.sleep(5)

    async def _listen_and_deliver(self) -> None:
        wake = asyncio.Event()
        async with self._engine.connect() as conn:
            listener = (await conn.get_raw_connection()).driver_connection
            await listener.add_listener(INBOX_CHANNEL, lambda *_: wake.set())
            while True:
                wake.clear()
                if not await self.deliver_pending():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), _POLL_SECONDS)

    async def deliver_pending(self) -> bool:
        """One pass over both inboxes; True if anything was claimed."""
        results = await self._deliver_results()
        warnings = await self._deliver_warnings()
        return results + warnings > 0

    async def _claim(self, statement: Any) -> list[Row[Any]]:
        async with self._engine.begin() as conn:
            return list(await conn.execute(statement, {"claim": _CLAIM_SECONDS, "queue": self._queue,
                                                       "limit": _BATCH}))

    async def _mark(self, statement: Any, **values: Any) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(statement, values)

    # -- department results -------------------------------------------------------

    async def _deliver_results(self) -> int:
        rows = await self._claim(_CLAIM_RESULTS)
        await asyncio.gather(*(self._deliver_result(row) for row in rows))
        return len(rows)

    async def _deliver_result(self, row: Row[Any]) -> None:
        handle = self._client.get_workflow_handle(row.workflow_id, run_id=row.run_id)
        try:
            async with self._gate:
                outcome = await handle.execute_update(
                    IdentificationWorkflow.receive_cross_check_result,
                    args=[row.request_id, CrossCheckResult.model_validate(row.result)],
                    id=f"cross-check-result:{row.request_id}",
                )
        except (RPCError, WorkflowUpdateFailedError) as error:
            if not case_closed(error):
                log.warning("result %s not delivered yet (%s); retrying", row.request_id, type(error).__name__)
                await self._mark(_RESULT_LATER, key=row.request_id, wait=_retry_wait(row.attempts))
                return
            outcome = "case_closed"
        await self._mark(_RESULT_DELIVERED, key=row.request_id, outcome=outcome)

    # -- early warnings ----------------------------------------------------------------

    async def _deliver_warnings(self) -> int:
        rows = await self._claim(_CLAIM_WARNINGS)
        if not rows:
            return 0
        async with self._sessions() as session:
            policy = await current_policy(session)
        by_household: dict[str, list[Row[Any]]] = defaultdict(list)
        for row in sorted(rows, key=lambda r: r.id):
            by_household[row.household_code].append(row)
        # One household's warnings in order (the first may open the case, the rest join it).
        await asyncio.gather(*(self._deliver_household(warnings, policy) for warnings in by_household.values()))
        return len(rows)

    async def _deliver_household(self, warnings: list[Row[Any]], policy: Policy) -> None:
        for index, row in enumerate(warnings):
            try:
                async with self._gate:
                    delivered_as, case_id = await self._open_or_join(row, policy)
            except (RPCError, WorkflowUpdateFailedError) as error:
                log.warning("early warning %d not delivered yet (%s); retrying", row.id, type(error).__name__)
                for later in warnings[index:]:
                    await self._mark(_WARNING_LATER, key=later.id, wait=_retry_wait(later.attempts))
                return
            await self._mark(_WARNING_DELIVERED, key=row.id, outcome=delivered_as, case_id=case_id)

    async def _open_or_join(self, row: Row[Any], policy: Policy) -> tuple[str, str]:
        """Opens the household's case with this warning as its lead, or adds the lead to the open case."""
        note = lead_note(DepartmentKind(row.department), WarningKind(row.kind), row.amount, row.occurred_on,
                         row.detail or "", row.warning_id)
        actor = Actor.system(row.county_code)
        start = CaseStart(case_id=uuid.uuid4().hex, household_code=row.household_code, village_code=row.village_code,
                          channel=Channel.department_warning, lead_note=note, policy=policy, opened_by=actor)
        lead = Lead(channel=Channel.department_warning, note=note)
        case_id, joined = await open_or_join(self._client, self._queue, start, lead, actor,
                                             start_key=f"early-warning:{row.id}")
        return ("joined" if joined else "opened"), case_id
