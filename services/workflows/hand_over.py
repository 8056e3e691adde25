"""What an identification case tells the other workflows, sent from the case's own workflow so that
its history shows it (deterministic: workflow code only).

- Once its opening is recorded: the household's monitoring workflow, if one runs (an open case is
  an open risk of a monitored household until it ends).
- Once its closing is recorded: monitoring, through the `tell_monitoring_case_ended` (local) activity (a
  monitoring target starts it; services/workers/monitoring/handover.py), and every self-report
  linked to the case (`case_closed`: the applicant hears the result).

Repeats change nothing: the monitoring workflow ignores a case it knows, a self-report keeps the
first outcome it heard of a case.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from services.domain.identification.state import CaseState
    from services.domain.monitoring.state import IdentificationSummary
    from services.domain.self_reports.model import CaseOutcome
    from services.workers.monitoring.handover import CaseEnded, MonitoringHandOver
    from services.workers.self_reports.links import LinkedCase, SelfReportLinks
    from services.workflows.contracts import (
        CASE_CLOSED,
        IDENTIFICATION_OPENED,
        monitoring_workflow_id,
        self_report_workflow_id,
    )
    from services.workflows.patches import Patches
    from services.workflows.procedure import RECORD_RETRY, run_locally_once

# How a signal to a workflow that is not running fails (sdk-core's signal_external_state_machine.rs).
_NOT_RUNNING = "ExternalWorkflowExecutionNotFound"
_READ_TIMEOUT = timedelta(seconds=30)
# The closing's two short activities run as local ones, as records do (procedure.LOCAL_RECORDS_PATCH):
# the closing step's answer waits for them, and each regular activity is two more round trips
# through the server. Their retries stay in the worker.
HAND_OVER_LOCAL_PATCH = "hand-over-as-local-activities"


async def tell_monitoring_opened(case: CaseState) -> None:
    await signal_if_running(
        monitoring_workflow_id(case.household_code), IDENTIFICATION_OPENED, IdentificationSummary.of(case)
    )


async def hand_over_closed_case(case: CaseState, patched: Patches) -> None:
    ended = CaseEnded(case=IdentificationSummary.of(case), monitoring_id=workflow.uuid4().hex)
    run = run_locally_once(patched, HAND_OVER_LOCAL_PATCH)
    await asyncio.gather(
        run(
            MonitoringHandOver.tell_monitoring_case_ended,
            ended,
            start_to_close_timeout=_READ_TIMEOUT,
            retry_policy=RECORD_RETRY,
        ),
        _tell_self_reports_closed(case, run),
    )


async def _tell_self_reports_closed(case: CaseState, run: Any) -> None:
    applications = await run(
        SelfReportLinks.find_linked_self_reports,
        LinkedCase(case_id=case.case_id),
        start_to_close_timeout=_READ_TIMEOUT,
        retry_policy=RECORD_RETRY,
    )
    assert case.outcome is not None and case.closed_at is not None, "told once the case is closed"
    outcome = CaseOutcome(case_id=case.case_id, outcome=case.outcome, closed_at=case.closed_at)
    for application_id in applications:
        await signal_if_running(self_report_workflow_id(application_id), CASE_CLOSED, outcome)


async def signal_if_running(workflow_id: str, signal: str, arg: BaseModel) -> None:
    """Signals the workflow; one that is not running (never started, or finished) has nothing to hear."""
    try:
        await workflow.get_external_workflow_handle(workflow_id).signal(signal, arg)
    except ApplicationError as error:
        if error.type != _NOT_RUNNING:
            # Not an ApplicationError: fails the workflow task (visible, retried), not the case.
            raise RuntimeError(f"signal {signal} to {workflow_id} failed: {error.message}") from error
