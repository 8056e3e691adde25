"""Hands what departments sent to the cases: the worker's inbox forwarder.

The API stores each department result (`cross_check_callbacks`) and each early warning
that becomes a lead (`early_warnings`) in PostgreSQL, answers the department, and
notifies the channel `department_inbox`, naming the inbox (services/departments/inbox_channel.py).
This forwarder runs beside the worker: it claims undelivered rows of that inbox and its own
task queue (FOR UPDATE SKIP LOCKED, so several workers share the work), delivers each to its
case through Temporal, and marks it delivered with what the case made of it. A claim expires,
so a delivery cut short by a crash is made again; deliveries are idempotent (update ids and
the start key derive from the row), so nothing is delivered twice. A lost notification only
delays delivery until the next poll, which looks at both inboxes.

One case never holds another's delivery. Each row (each household's warnings, in the
order they came: the first may open the case, the rest join it) is delivered on its
own, never awaited with a batch, and each hand-over is bounded in time (`InboxTiming`):
a case that cannot take it (its worker is down, its records fail, its update waits) is
retried later with backoff under the same update id: a later attempt waits on the update
already sent, and sends it again only if Temporal has lost it. After `attention_after` failed attempts the row is marked
`needs_attention_since`, which shows it to the county officer (`GET /cross-check-tasks`,
`GET /early-warnings`); it is still retried, at the slowest pace: what a department
sent is never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from services.db.engine import session_factory, standalone
from services.db.failures import describe
from services.db.households import formerly_poor
from services.db.policy_versions import current_policy
from services.departments.inbox_channel import BOTH, CHANNEL, RESULTS, WARNINGS
from services.domain.departments.early_warning import lead_note
from services.domain.identification.forms import CrossCheckResult, Lead
from services.domain.identification.state import Actor, CaseStart
from services.domain.policy import Policy
from services.domain.update_inputs import DepartmentAnswer
from services.domain.vocabulary import Channel, DepartmentKind, WarningKind
from services.identification_starts import CaseUnrecordable, case_closed, open_or_join, unrecordable
from services.workflows.identification import IdentificationWorkflow

log = logging.getLogger("services.department_inbox")

# What a delivery that PostgreSQL refused for good is marked as: final, never retried.
REFUSED = "refused"
_POLL_SECONDS = 5.0
# Deliveries in flight per inbox; a claim outlives the longest hand-over.
_PARALLEL = 16
_CLAIM_SECONDS = 60

T = TypeVar("T")


@dataclass(frozen=True)
class InboxTiming:
    """How long the forwarder waits on one case, and when a case that cannot take what was
    sent is shown to the county officer."""

    # One hand-over (an update, or a case start and its first update) at most.
    handover_seconds: float = 15.0
    # Failed attempts after which the row needs attention (about two minutes with the defaults).
    attention_after: int = 5
    # Retries back off from 2 s, doubling, up to this; they never stop.
    slowest_retry_seconds: int = 300

    def retry_wait(self, attempts: int) -> int:
        return min(2 ** min(attempts, 30), self.slowest_retry_seconds)


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
    UPDATE cross_check_callbacks SET claimed_until = now() + make_interval(secs => :wait),
        needs_attention_since = CASE WHEN attempts >= :attention THEN coalesce(needs_attention_since, now()) END
    WHERE request_id = :key
""")
# A household's warnings go in order: none is claimed while an earlier one of its household
# is in flight or waiting for its retry (claimed_until ahead).
_CLAIM_WARNINGS = text("""
    UPDATE early_warnings w
    SET claimed_until = now() + make_interval(secs => :claim), attempts = w.attempts + 1
    FROM households h
    WHERE h.code = w.household_code AND w.id IN (
        SELECT e.id FROM early_warnings e
        WHERE e.outcome IN ('opened', 'joined') AND e.delivered_at IS NULL AND e.task_queue = :queue
          AND (e.claimed_until IS NULL OR e.claimed_until < now())
          AND NOT EXISTS (
              SELECT 1 FROM early_warnings b
              WHERE b.household_code = e.household_code AND b.id < e.id AND b.outcome IN ('opened', 'joined')
                AND b.delivered_at IS NULL AND b.claimed_until >= now())
        ORDER BY e.id LIMIT :limit FOR UPDATE OF e SKIP LOCKED)
    RETURNING w.id, w.department, w.county_code, w.warning_id, w.kind, w.amount, w.occurred_on, w.detail,
              w.household_code, w.attempts, h.village_code
""")
_WARNING_DELIVERED = text("""
    UPDATE early_warnings SET delivered_at = now(), delivered_as = :outcome, case_id = :case_id, claimed_until = NULL
    WHERE id = :key
""")
_WARNING_LATER = text("""
    UPDATE early_warnings SET claimed_until = now() + make_interval(secs => :wait),
        needs_attention_since = CASE WHEN attempts >= :attention THEN coalesce(needs_attention_since, now()) END
    WHERE id = :key
""")


class _Deliveries:
    """The deliveries of one inbox in flight, each on its own task; `on_done` hears each end."""

    def __init__(self, slots: int, on_done: Callable[[], None]) -> None:
        self._slots, self._on_done = slots, on_done
        self._running: set[asyncio.Task[None]] = set()

    @property
    def free(self) -> int:
        return self._slots - len(self._running)

    def start(self, delivery: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(delivery)
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("department inbox delivery failed: %s", describe(error))
        self._on_done()

    async def stop(self) -> None:
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)


class DepartmentInbox:
    def __init__(
        self, engine: AsyncEngine, client: Client, task_queue: str, timing: InboxTiming = InboxTiming()
    ) -> None:
        self._engine, self._client, self._queue, self._timing = engine, client, task_queue, timing
        # A claim, a mark and a lookup are one statement each: no BEGIN and COMMIT round trips.
        self._standalone = standalone(engine)
        self._sessions = session_factory(self._standalone)
        self._wake = asyncio.Event()
        self._due: set[str] = set()  # the inboxes notified (or with a slot freed) since the last claim
        self._results = _Deliveries(_PARALLEL, lambda: self._notified(RESULTS))
        self._warnings = _Deliveries(_PARALLEL, lambda: self._notified(WARNINGS))

    def _notified(self, inbox: str) -> None:
        self._due.update({inbox} if inbox in BOTH else BOTH)  # a payload of an older API: both
        self._wake.set()

    async def run(self) -> None:
        """Delivers until cancelled; a lost database connection is re-opened after a pause."""
        try:
            while True:
                try:
                    await self._listen_and_deliver()
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # its text may hold a refused value: named by kind only
                    log.error("department inbox forwarder failed (%s); restarting in 5 s", describe(error))
                    await asyncio.sleep(5)
        finally:
            await self._results.stop()
            await self._warnings.stop()

    async def _listen_and_deliver(self) -> None:
        async with self._engine.connect() as conn:
            listener = (await conn.get_raw_connection()).driver_connection
            assert listener is not None  # an open asyncpg connection
            await listener.add_listener(CHANNEL, lambda _conn, _pid, _channel, inbox: self._notified(inbox))
            loop = asyncio.get_running_loop()
            inboxes, polled = BOTH, loop.time()
            while True:
                self._wake.clear()
                self._due.clear()
                found = await self.deliver_pending(inboxes)
                if not found:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), _POLL_SECONDS)
                # Claimed again: an inbox that had rows (it may hold more), one notified or with a slot
                # freed; both once a poll interval has passed, however busy one inbox keeps the loop:
                # rows no notification announces (a retry's backoff ended, a crashed worker's claim
                # expired, a household's next warning unblocked) are found by the poll only.
                inboxes = frozenset(found | self._due)
                if inboxes in (BOTH, frozenset()) or loop.time() - polled >= _POLL_SECONDS:
                    inboxes, polled = BOTH, loop.time()

    async def deliver_pending(self, inboxes: frozenset[str] = BOTH) -> set[str]:
        """Starts delivering what waits in `inboxes`, as far as free slots allow (a slot frees as
        each delivery ends, whatever the others do); the inboxes that had anything to claim."""
        claimed = {
            RESULTS: await self._start_results() if RESULTS in inboxes else 0,
            WARNINGS: await self._start_warnings() if WARNINGS in inboxes else 0,
        }
        return {inbox for inbox, rows in claimed.items() if rows}

    async def _claim(self, statement: Any, limit: int) -> list[Row[Any]]:
        if limit <= 0:
            return []
        async with self._standalone.begin() as conn:
            return list(await conn.execute(statement, {"claim": _CLAIM_SECONDS, "queue": self._queue, "limit": limit}))

    async def _mark(self, statement: Any, **values: Any) -> None:
        async with self._standalone.begin() as conn:
            await conn.execute(statement, values)

    async def _hand_over(self, delivery: Awaitable[T]) -> T:
        """Awaits one hand-over for at most `handover_seconds` (a case that cannot take it
        times out here; its update goes on in Temporal and a retry with its id rejoins it)."""
        try:
            return await asyncio.wait_for(delivery, self._timing.handover_seconds)
        except Exception:
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # the forwarder is stopping, not the case failing
                raise asyncio.CancelledError() from None
            raise

    async def _later(self, statement: Any, what: str, key: object, attempts: int, error: Exception) -> None:
        """Retries the row after a backoff, marking it as needing attention once it has failed often."""
        wait = self._timing.retry_wait(attempts)
        await self._mark(statement, key=key, wait=wait, attention=self._timing.attention_after)
        level = logging.ERROR if attempts == self._timing.attention_after else logging.WARNING
        log.log(
            level,
            "%s %s not delivered (attempt %d: %s); retrying in %d s%s",
            what,
            key,
            attempts,
            type(error).__name__,
            wait,
            "; needs attention" if attempts >= self._timing.attention_after else "",
        )

    # -- department results -------------------------------------------------------

    async def _start_results(self) -> int:
        rows = await self._claim(_CLAIM_RESULTS, self._results.free)
        for row in rows:
            self._results.start(self._deliver_result(row))
        return len(rows)

    async def _deliver_result(self, row: Row[Any]) -> None:
        try:
            outcome = await self._hand_over(self._result_update(row))
        except Exception as error:
            if case_closed(error):
                outcome = "case_closed"
            elif isinstance(error, WorkflowUpdateFailedError) and unrecordable(error.cause):
                outcome = REFUSED  # the case refused it for good and flags itself as needing attention
            else:
                await self._later(_RESULT_LATER, "result", row.request_id, row.attempts, error)
                return
        await self._mark(_RESULT_DELIVERED, key=row.request_id, outcome=outcome)

    async def _result_update(self, row: Row[Any]) -> str:
        """The case's answer to the update carrying this result. A retry first waits on the
        update an earlier attempt sent (the same update: it may be in the case already), and
        sends it again only when Temporal does not know it."""
        handle = self._client.get_workflow_handle(row.workflow_id, run_id=row.run_id)
        update, update_id = IdentificationWorkflow.receive_cross_check_result, f"cross-check-result:{row.request_id}"
        rpc_timeout = timedelta(seconds=self._timing.handover_seconds)
        if row.attempts > 1:
            try:
                return await handle.get_update_handle_for(update, update_id).result(rpc_timeout=rpc_timeout)
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
        return await handle.execute_update(
            update,
            DepartmentAnswer(request_id=row.request_id, result=CrossCheckResult.model_validate(row.result)),
            id=update_id,
            rpc_timeout=rpc_timeout,
        )

    # -- early warnings ----------------------------------------------------------------

    async def _start_warnings(self) -> int:
        rows = await self._claim(_CLAIM_WARNINGS, self._warnings.free)
        if not rows:
            return 0
        async with self._sessions() as session:
            policy = await current_policy(session)
        by_household: dict[str, list[Row[Any]]] = defaultdict(list)
        for row in sorted(rows, key=lambda r: r.id):
            by_household[row.household_code].append(row)
        for warnings in by_household.values():
            self._warnings.start(self._deliver_household(warnings, policy))
        return len(rows)

    async def _deliver_household(self, warnings: list[Row[Any]], policy: Policy) -> None:
        """One household's warnings in order (the first may open the case, the rest join it):
        when one cannot be delivered, it and those after it wait for the retry."""
        for index, row in enumerate(warnings):
            try:
                delivered_as, case_id = await self._hand_over(self._open_or_join(row, policy))
            except CaseUnrecordable:
                delivered_as, case_id = REFUSED, None  # retrying cannot cure it: the next warning goes on
            except Exception as error:
                for later in warnings[index:]:
                    await self._later(_WARNING_LATER, "early warning", later.id, later.attempts, error)
                return
            await self._mark(_WARNING_DELIVERED, key=row.id, outcome=delivered_as, case_id=case_id)

    async def _open_or_join(self, row: Row[Any], policy: Policy) -> tuple[str, str]:
        """Opens the household's case with this warning as its lead, or adds the lead to the open case."""
        note = lead_note(
            DepartmentKind(row.department),
            WarningKind(row.kind),
            row.amount,
            row.occurred_on,
            row.detail or "",
            row.warning_id,
        )
        actor = Actor.system(row.county_code)
        async with self._standalone.connect() as conn:
            flagged = await formerly_poor(conn, row.household_code)
        start = CaseStart(
            case_id=uuid.uuid4().hex,
            household_code=row.household_code,
            village_code=row.village_code,
            channel=Channel.department_warning,
            lead_note=note,
            policy=policy,
            opened_by=actor,
            formerly_poor=flagged,
        )
        lead = Lead(channel=Channel.department_warning, note=note)
        case_id, joined = await open_or_join(
            self._client, self._queue, start, lead, actor, start_key=f"early-warning:{row.id}"
        )
        return ("joined" if joined else "opened"), case_id
