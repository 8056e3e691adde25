"""A bare workflow with the identification procedure's shape and none of its work.

It makes the same Temporal calls as one case of `IdentificationWorkflow` driven
through the API from lead to announcement (see `services/workflows/identification.py`
and `services/demo_case.py`):

  - the run method records the opening (1 activity), then waits for updates;
  - `opened`: the update the API sends right after starting, answered once the
    opening is recorded (no activity of its own, as in the real workflow);
  - 7 step updates (`act`), each checked by a validator and awaiting 1 activity:
    home verification, authorisation, cross-check (one entry, all departments),
    democratic review, township review, county decision, announcement;
  - 1 timer (the village notice) after the democratic review, then 1 activity
    (the end of the notice) before the township review may start.

So per case: 1 start, 8 updates, 9 activities, 1 timer — like the real one. The
activity does nothing and the payloads are a step name, so what the service adds
on top (HTTP, sign-in checks, PostgreSQL writes, idempotency records, payload
validation, the case-state snapshot in every event) shows up as the difference.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

BARE_TASK_QUEUE = "bench-bare-case"

# The steps a client acts on before and after the notice, named like the API's endpoints.
BEFORE_NOTICE = ("home-verification", "authorisation", "cross-check-results", "democratic-review")
AFTER_NOTICE = ("township-review", "county-decision", "announcement")
NOTICE, CLOSED = "village-notice", "closed"
STEPS = (*BEFORE_NOTICE, NOTICE, *AFTER_NOTICE, CLOSED)

# As in the real workflow, so a retry would look the same (none happens: the activity cannot fail).
_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


@activity.defn
async def bare_record(action: str) -> None:
    """Stands in for `record_case_event`: does nothing."""


@workflow.defn
class BareCaseWorkflow:
    @workflow.init
    def __init__(self, notice_seconds: float) -> None:
        self._step = STEPS[0]
        self._opened = False

    @workflow.run
    async def run(self, notice_seconds: float) -> str:
        await self._record("open")
        self._opened = True
        await workflow.wait_condition(lambda: self._step == NOTICE)
        await workflow.sleep(timedelta(seconds=notice_seconds))
        # Recorded before the step moves on: the service's clients see the township
        # review step only once `end_notice` has written it to the read model.
        await self._record("end-notice")
        self._step = AFTER_NOTICE[0]
        await workflow.wait_condition(lambda: self._step == CLOSED)
        await workflow.wait_condition(workflow.all_handlers_finished)
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
        self._step = STEPS[STEPS.index(step) + 1]
        await self._record(step)
        return self._step

    @act.validator
    def _validate_act(self, step: str) -> None:
        if step != self._step or step == NOTICE:
            raise ApplicationError(f"the case is at {self._step}, not {step}", type="WrongStep", non_retryable=True)

    async def _record(self, action: str) -> None:
        await workflow.execute_activity(
            bare_record, action, start_to_close_timeout=timedelta(seconds=30), retry_policy=_RETRY
        )


def _serve(temporal_address: str) -> None:
    """Runs the bare worker in a process of its own (the bench's --bare-worker-process)."""
    import asyncio
    import signal

    from temporalio.worker import Worker

    from services.settings import Settings
    from services.temporal_client import connect

    async def serve() -> None:
        client = await connect(Settings(environment="test", temporal_address=temporal_address))
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with Worker(client, task_queue=BARE_TASK_QUEUE, workflows=[BareCaseWorkflow], activities=[bare_record]):
            print("bare worker started", flush=True)
            await stop.wait()

    asyncio.run(serve())


if __name__ == "__main__":
    import sys

    _serve(sys.argv[1])
