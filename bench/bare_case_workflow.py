"""A bare workflow with the identification procedure's shape and none of its work.

It makes the same Temporal calls as one case of `IdentificationWorkflow` driven
through the API from lead to announcement (see `services/workflows/identification.py`,
`services/demo_case.py`, `services/workers/identification/cross_checks.py` and
`services/workers/departments/inbox.py`), the departments all answering in time:

  - the run method records the opening (1 activity), tells the household's monitoring
    workflow (1 signal sent; none runs, so it fails as not found), then waits for updates;
  - `opened`: the update the API sends right after starting, answered once the
    opening is recorded (no activity of its own, as in the real workflow);
  - 6 step updates (`act`), each checked by a validator and awaiting 1 activity:
    home verification, authorisation, democratic review, township review, county
    decision, announcement (the officer no longer records cross-check results by
    hand: the departments answer by themselves);
  - the cross-check, started once the authorisation update's record is written, as
    `_run_cross_check` (CROSS_CHECK_AFTER_RECORD_PATCH); the case waits at `cross-check`
    until all 5 departments have answered, then moves to the democratic review (as the real
    workflow since REVIEW_AFTER_CROSS_CHECK_PATCH), which the driver polls for as
    CaseDriver.authorise_and_wait_for_review does: 1 activity (the plan), 1 activity (the
    `request_cross_check` record), then 5 activities in parallel (one send per department,
    each then recording the department's acceptance) and a deadline watch with one timer at
    the earliest answer deadline or re-ask of a silent department, moved when that moment
    moves and stopped when the round is complete (`_watch_round_deadlines`, ONE_TIMER_PATCH,
    STOP_WATCH_TIMER_PATCH);
  - from the start to the closing, the step-deadline watch: one timer at the earliest of
    the identification's limit and the step's deadline, moved at each step
    (`_escalate_missed_deadlines`);
  - 5 `department_result` updates (the forwarder's `receive_cross_check_result`),
    each awaiting 1 activity (the record); the driver sends each one as soon as the
    no-op send activity has "reached the department", as the simulator's callbacks arrive;
  - 1 timer (the village notice) after the democratic review, then 1 activity
    (the end of the notice);
  - the announcement, once recorded, hands the case over before it answers: 2 activities
    in parallel (`tell_monitoring_case_ended`, `find_linked_self_reports`; none linked). The
    first starts the household's monitoring period as the service's does (Signal-with-Start
    of `BareMonitoringWorkflow`: 1 start, 1 signal, then its opening's 1 record and the timer
    of its next wake, as `MonitoringWorkflow.run`).

So per case: 1 start (and the monitoring period's), 12 updates (7 from the API, 5 from the forwarder), 1 signal sent,
0 received, 27 activities (19 records and 2 hand-over, local activities as the service's are: the
records are 14 steps and results and 5 acceptances; 1 plan and 5 sends), 1 notice timer plus the two
watches' timers (started and cancelled as their moments move; the bench prints both shapes' counts).
The activities do nothing and the
payloads are a step or department name, so what the service adds on top (HTTP,
sign-in checks, PostgreSQL writes, idempotency records, payload validation, the
case-state snapshot in every event, the departments' signed requests and callbacks,
the callback inbox and its forwarder) shows up as the difference.

The send activity hands the request to `DEPARTMENTS` (an in-process stand-in for the
simulator), which the bench's driver awaits: the worker must run in the bench process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from datetime import datetime, timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from services.domain.identification.cross_check import DEFAULT_REASK_HOURS
    from services.workflows.wake_up import WakeUp

BARE_TASK_QUEUE = "bench-bare-case"
# As services/workflows/contracts.py: IDENTIFICATION_CONCLUDED, monitoring_workflow_id.
CASE_CONCLUDED = "identification_concluded"
# The monitoring workflow's wake for the first visit (a month away: it never fires in the bench).
_NEXT_VISIT = timedelta(days=30)

# The steps a client acts on before and after the notice, named like the API's endpoints.
BEFORE_NOTICE = ("home-verification", "authorisation", "democratic-review")
AFTER_NOTICE = ("township-review", "county-decision", "announcement")
NOTICE, CROSS_CHECK, CLOSED = "village-notice", "cross-check", "closed"
STEPS = (*BEFORE_NOTICE, NOTICE, *AFTER_NOTICE, CLOSED)
# As the default policy's cross_check_departments (every `Department`).
BARE_DEPARTMENTS = ("real_estate", "vehicles", "market_entities", "public_payroll", "social_insurance")
# The real deadline watch's timeout is the earliest answer deadline, days away.
_ANSWER_DAYS = timedelta(days=5)
# As DepartmentRequest.next_reask_at: a department that accepted and stays silent is asked again.
_REASK_AFTER = timedelta(hours=DEFAULT_REASK_HOURS)
# As `pending_deadlines`: the identification's limit, and the step's own deadline (the village
# notice's has no level above to escalate to). Days away: no deadline passes in the bench.
_IDENTIFICATION_DAYS, _STEP_DAYS = timedelta(days=30), timedelta(days=3)

# As in the real workflow, so a retry would look the same (none happens: the activities cannot fail).
_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


class Departments:
    """The requests the bare workflows have sent, per workflow id: what the driver turns into callbacks."""

    def __init__(self) -> None:
        self._received: dict[str, asyncio.Queue[str]] = defaultdict(asyncio.Queue)

    def receive(self, workflow_id: str, department: str) -> None:
        self._received[workflow_id].put_nowait(department)

    async def next_request(self, workflow_id: str) -> str:
        return await self._received[workflow_id].get()

    def forget(self, workflow_id: str) -> None:
        self._received.pop(workflow_id, None)


DEPARTMENTS = Departments()


def bare_monitoring_id(case_workflow_id: str) -> str:
    return f"bare-monitoring-{case_workflow_id}"


@activity.defn
async def bare_record(action: str) -> None:
    """Stands in for `record_case_event` (and `plan_cross_check`): does nothing."""


@activity.defn
async def bare_send(department: str) -> None:
    """Stands in for `send_cross_check_request`: the department has the request, and will call back."""
    DEPARTMENTS.receive(activity.info().workflow_id, department)


class BareHandOver:
    """Stands in for `tell_monitoring_case_ended` (services/workers/monitoring/handover.py): starts the
    household's monitoring period, or tells the running one, with one Signal-with-Start."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name="bare_tell_monitoring_case_ended")
    async def tell_monitoring_case_ended(self, case_workflow_id: str) -> None:
        await self._client.start_workflow(
            BareMonitoringWorkflow.run,
            case_workflow_id,
            id=bare_monitoring_id(case_workflow_id),
            task_queue=BARE_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            start_signal=CASE_CONCLUDED,
            start_signal_args=[case_workflow_id],
        )


@workflow.defn
class BareMonitoringWorkflow:
    """A monitoring period as it opens: its opening recorded, then waiting for the first visit's month."""

    @workflow.init
    def __init__(self, case_workflow_id: str) -> None:
        self._cases: set[str] = set()

    @workflow.run
    async def run(self, case_workflow_id: str) -> None:
        await _record("start-monitoring")
        await workflow.wait_condition(lambda: False, timeout=_NEXT_VISIT)

    @workflow.signal(name=CASE_CONCLUDED)
    def case_concluded(self, case_workflow_id: str) -> None:
        self._cases.add(case_workflow_id)  # as the real one: a case it already knows changes nothing


@workflow.defn
class BareCaseWorkflow:
    @workflow.init
    def __init__(self, notice_seconds: float) -> None:
        self._step = STEPS[0]
        self._due_at = workflow.now() + _IDENTIFICATION_DAYS
        self._step_due_at: datetime | None = workflow.now() + _STEP_DAYS
        self._opened = False
        self._reviewed = False
        self._cross_check: asyncio.Task[None] | None = None
        self._sent: set[str] = set()
        self._answered: set[str] = set()
        self._accepted_at: dict[str, datetime] = {}
        self._changes = 0

    @workflow.run
    async def run(self, notice_seconds: float) -> str:
        deadlines = asyncio.create_task(self._watch_step_deadlines())
        await _record("open")
        self._opened = True
        # As `_tell_monitoring_opened`: a signal to a monitoring workflow that does not run.
        with contextlib.suppress(ApplicationError):
            await workflow.get_external_workflow_handle(bare_monitoring_id(workflow.info().workflow_id)).signal(
                "identification_opened", "case"
            )
        await workflow.wait_condition(lambda: self._step == NOTICE)
        await workflow.sleep(timedelta(seconds=notice_seconds))
        # As `_run_notice`: the step moves before `end_notice` is recorded; township review
        # sees every department's answer, so without all of them the case waits at `cross_check`.
        self._move_to(AFTER_NOTICE[0] if self._complete() else CROSS_CHECK)
        await _record("end-notice")
        await workflow.wait_condition(lambda: self._step == CLOSED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._cross_check is not None:
            await self._cross_check
        await deadlines
        return self._step

    @workflow.query
    def step(self) -> str:
        return self._step

    @workflow.update
    async def opened(self) -> str:
        await workflow.wait_condition(lambda: self._opened)
        return self._step

    @workflow.update
    async def act(self, step: str) -> str:
        self._validate_act(step)  # again: two updates may both pass validation before either runs
        # As `_step_after_authorisation`: the review waits at `cross-check` for the departments.
        self._move_to(CROSS_CHECK if step == "authorisation" else STEPS[STEPS.index(step) + 1])
        self._reviewed = self._reviewed or step == "democratic-review"
        await _record(step)
        if step == "authorisation":  # as `_answer_beginning_cross_check`: the round starts once recorded
            self._cross_check = asyncio.create_task(self._run_cross_check())
        if self._step == CLOSED:  # as `_hand_over_closed_case`
            await asyncio.gather(self._tell_monitoring(), _record("find-linked-self-reports"))
        return self._step

    @act.validator
    def _validate_act(self, step: str) -> None:
        if step != self._step or step in (NOTICE, CROSS_CHECK):
            raise ApplicationError(f"the case is at {self._step}, not {step}", type="WrongStep", non_retryable=True)

    @workflow.update
    async def department_result(self, department: str) -> str:
        """As `receive_cross_check_result`: no validator, answers `recorded` or `not_awaiting`."""
        if department not in self._sent or department in self._answered:
            return "not_awaiting"
        self._answered.add(department)
        self._changed()
        await _record(f"result-{department}")
        return "recorded"

    async def _run_cross_check(self) -> None:
        await self._activity("plan-cross-check")  # stands in for the `plan_cross_check` activity
        self._sent = set(BARE_DEPARTMENTS)
        respond_by = workflow.now() + _ANSWER_DAYS
        self._changed()
        await _record("request-cross-check")
        sends = [asyncio.create_task(self._send(d)) for d in BARE_DEPARTMENTS]
        wake = WakeUp()
        try:  # as `_watch_round_deadlines`: one timer at the earliest answer deadline or re-ask
            while not self._complete():
                seen = self._changes
                silent = [at + _REASK_AFTER for d, at in self._accepted_at.items() if d not in self._answered]
                wake.at(min([respond_by, *silent]))
                await workflow.wait_condition(lambda: self._changes != seen or wake.due())
                if wake.due():
                    raise ApplicationError("a bare department missed its deadline", non_retryable=True)
        finally:
            wake.stop()  # as STOP_WATCH_TIMER_PATCH
        await asyncio.gather(*sends)  # as the service: an answered department's send is left to finish

    async def _send(self, department: str) -> None:
        await workflow.execute_activity(
            bare_send,
            department,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=_ANSWER_DAYS,
            retry_policy=_RETRY,
        )
        if department not in self._answered:  # as `_deliver`: the acceptance, recorded unless the answer came first
            self._accepted_at[department] = workflow.now()
            self._changed()
            await _record(f"accepted-{department}")

    def _complete(self) -> bool:
        return bool(self._sent) and self._answered == self._sent

    def _changed(self) -> None:
        self._changes += 1
        if self._step == CROSS_CHECK and self._complete():  # before the review, or after the notice
            self._move_to(AFTER_NOTICE[0] if self._reviewed else "democratic-review")

    def _move_to(self, step: str) -> None:
        self._step = step
        self._step_due_at = None if step in (NOTICE, CLOSED) else workflow.now() + _STEP_DAYS

    async def _watch_step_deadlines(self) -> None:
        """As `_escalate_missed_deadlines`: one timer at the earliest of the identification's limit
        and the step's deadline, moved when the step moves."""
        wake = WakeUp()
        while self._step != CLOSED:
            watched = (self._step, self._step_due_at)
            wake.at(min(d for d in (self._due_at, self._step_due_at) if d is not None))
            await workflow.wait_condition(lambda: (self._step, self._step_due_at) != watched or wake.due())
            if wake.due():
                raise ApplicationError("a bare case missed a deadline", non_retryable=True)

    async def _activity(self, name: str) -> None:
        """Stands in for one of the service's activities that is not a record."""
        await workflow.execute_activity(
            bare_record, name, start_to_close_timeout=timedelta(seconds=30), retry_policy=_RETRY
        )

    async def _tell_monitoring(self) -> None:
        """As the hand-over (services/workflows/hand_over.py, HAND_OVER_LOCAL_PATCH): a local activity."""
        await workflow.execute_local_activity_method(
            BareHandOver.tell_monitoring_case_ended,
            workflow.info().workflow_id,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_RETRY,
        )


async def _record(action: str) -> None:
    """As the service's Recorder (services/workflows/procedure.py, LOCAL_RECORDS_PATCH) and hand-over
    (services/workflows/hand_over.py, HAND_OVER_LOCAL_PATCH): a local activity."""
    await workflow.execute_local_activity(
        bare_record, action, start_to_close_timeout=timedelta(seconds=30), retry_policy=_RETRY
    )
