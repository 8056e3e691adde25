"""A monitoring workflow runs for years: it continues as new when Temporal suggests it,
carrying its state, and loses no task, timer or update at the boundary. A dev server of
its own suggests continue-as-new after a few dozen history events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from sqlalchemy import text
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.demo_case import ADMIN, COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver, objection
from services.demo_monitoring import SUPPORT_PERSON, MonitoringDriver, delivery, visit
from services.devstack.servers import SQLITE_PRAGMAS, venv_binary
from services.domain.months import local_date
from services.settings import Settings
from services.temporal_client import data_converter
from services.workers.main import running_worker
from services.workflows.monitoring import MonitoringWorkflow, monitoring_workflow_id
from tests.conftest import api_for, new_household_body

HISTORY_THRESHOLD = 40


@pytest_asyncio.fixture
async def short_histories(settings: Settings, live_api: object) -> AsyncIterator[tuple[Client, MonitoringDriver]]:
    # `live_api`: the departments answer the cross-checks of this server's cases through it.
    own = settings.model_copy(update={"temporal_task_queue": "monitoring-continue-as-new"})
    args = [arg for p in SQLITE_PRAGMAS for arg in ("--sqlite-pragma", p)]
    args += ["--dynamic-config-value", f"limit.historyCount.suggestContinueAsNew={HISTORY_THRESHOLD}"]
    async with (
        await WorkflowEnvironment.start_local(
            dev_server_existing_path=venv_binary("temporal"),
            data_converter=data_converter(own),
            dev_server_extra_args=args,
            ui=False,
        ) as env,
        running_worker(env.client, own),
        api_for(own, env.client) as cases,
    ):
        yield env.client, MonitoringDriver(cases)


def _recorded(view: Any) -> Any:
    """A view without what the API adds (labels, tasks): the state as the workflow recorded it."""
    if isinstance(view, dict):
        return {
            k: _recorded(v)
            for k, v in view.items()
            if not k.endswith("_label") and k not in ("tasks", "risk_type_labels")
        }
    if isinstance(view, list):
        return [_recorded(v) for v in view]
    return view


def _policy(notice_seconds: float) -> dict:
    return {"notice_days": notice_seconds / 86400, "exit_min_monitoring_months": 0, "exit_income_months": 1}


async def _monitored_household(driver: MonitoringDriver) -> tuple[str, dict[str, Any]]:
    """A household identified as a monitoring target; its code and monitoring period."""
    cases = driver.cases
    await cases.post(ADMIN, "/api/v1/policies", _policy(0.5))
    code = (await cases.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())).json()["code"]
    case_id = await driver.to_notice(code)
    await cases.wait_for_step(case_id, "township_review")
    await cases.post(ADMIN, "/api/v1/policies", _policy(6))  # the monitoring period's notice: 6 seconds
    await cases.after_notice(case_id)
    return code, await driver.period_of(code)


async def test_continue_as_new_keeps_tasks_timers_and_updates(short_histories: tuple[Client, MonitoringDriver]) -> None:
    client, driver = short_histories
    cases: CaseDriver = driver.cases
    code, period = await _monitored_household(driver)
    monitoring_id = period["monitoring_id"]
    handle = client.get_workflow_handle(monitoring_workflow_id(code))
    first_run = (await handle.describe()).run_id
    visit_task = period["visit_tasks"][-1]

    period = await driver.support_with_plan(monitoring_id)
    today = local_date(datetime.now(UTC))
    measure_id = period["plans"][-1]["measures"][0]["measure_id"]
    await driver.act(SUPPORT_PERSON, monitoring_id, f"measures/{measure_id}/delivery", delivery(today))
    period = await driver.act(VILLAGE_CADRE, monitoring_id, "visits", visit(today))
    assert period["assessment"]["eligible"], period["assessment"]

    # It has continued as new; the new run holds the same tasks, plan and assessment.
    assert (await handle.describe()).run_id != first_run
    assert (
        await client.get_workflow_handle(handle.id, run_id=first_run).describe()
    ).status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    state = await handle.query(MonitoringWorkflow.state)
    carried, recorded = state.model_dump(mode="json"), _recorded(await driver.get(monitoring_id))
    for assessment in (carried["assessment"], recorded["assessment"]):
        del assessment["assessed_at"]  # a new run re-assesses (and records only what changed)
    assert carried == recorded
    assert state.visit_tasks[-1].model_dump(mode="json") == _recorded(visit_task) | {
        "status": "done",
        "visit_count": 1,
        "first_visited_on": today.isoformat(),
        "per_capita_net_income": 9800.0,
    }
    assert state.support_person is not None and state.support_person.username == SUPPORT_PERSON
    assert state.measure(measure_id).status == "delivered" and state.assessment.eligible

    # The exit's notice timer, started in one run, fires in a later one.
    await driver.exit_to_notice(monitoring_id, today)
    notice_run = (await handle.describe()).run_id
    period = await driver.act(VILLAGE_CADRE, monitoring_id, "exit/objections", objection())
    period = await driver.act(
        VILLAGE_CADRE, monitoring_id, "exit/objections/1/resolution", {"decision": "dismissed", "findings": "异议不实"}
    )
    ends_at = datetime.fromisoformat(period["exits"][-1]["notice"]["ends_at"])

    # Updates sent together while the workflow continues as new: each acts exactly once.
    visits_before = period["visits_recorded"]
    answers = await asyncio.gather(
        *(driver.post(VILLAGE_CADRE, monitoring_id, "visits", visit(today, income=9000 + i)) for i in range(6))
    )
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    notice_run_closed = await client.get_workflow_handle(handle.id, run_id=notice_run).describe()
    assert notice_run_closed.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert notice_run_closed.close_time is not None and notice_run_closed.close_time < ends_at

    period = await driver.wait_for(monitoring_id, lambda p: p["exits"][-1]["step"] == "township_review", timeout=30)
    assert period["exits"][-1]["step"] == "township_review"
    timeline = (await cases.get(COUNTY_OFFICER, f"/api/v1/monitoring/{monitoring_id}/timeline")).json()["entries"]
    ended = next(e for e in timeline if e["action"] == "end_exit_notice")
    assert datetime.fromisoformat(ended["at"]) >= ends_at
    assert period["visits_recorded"] == visits_before + 6
    assert [e["action"] for e in timeline].count("record_visit") == 7
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    record = (await cases.get(COUNTY_OFFICER, f"/api/v1/households/{code}/file")).json()
    assert len(record["monitoring_periods"][0]["visits"]) == 7

    # Each run's history stays near the threshold (plus the updates in flight when it was
    # reached), however long the household is monitored.
    lengths = [
        run.history_length
        async for run in client.list_workflows(f"WorkflowId='{handle.id}'")
        if run.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    ]
    assert len(lengths) >= 2 and max(lengths) <= 2 * HISTORY_THRESHOLD + 20, lengths


async def test_a_retry_after_continue_as_new_answers_first_and_acts_once(
    short_histories: tuple[Client, MonitoringDriver], settings: Settings
) -> None:
    client, driver = short_histories
    code, period = await _monitored_household(driver)
    monitoring_id = period["monitoring_id"]
    handle = client.get_workflow_handle(monitoring_workflow_id(code))
    today = local_date(datetime.now(UTC))
    retry = {"Idempotency-Key": f"visit-{uuid.uuid4().hex}"}

    first = await driver.post(VILLAGE_CADRE, monitoring_id, "visits", visit(today), **retry)
    assert first.status_code == 200, first.text
    # The API dies after the workflow acted and before it stored the answer: the key stays
    # claimed without one, so the client's retry runs the action again.
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.begin() as conn:
        forgotten = await conn.execute(
            text("UPDATE idempotency_records SET status_code = NULL, response = NULL WHERE key = :key"),
            {"key": retry["Idempotency-Key"]},
        )
    await engine.dispose()
    assert forgotten.rowcount == 1

    # Other visits until the workflow has continued as new: the retry meets a run that never saw it.
    run_id, others = (await handle.describe()).run_id, 0
    while (await handle.describe()).run_id == run_id and others < 12:
        await driver.act(VILLAGE_CADRE, monitoring_id, "visits", visit(today, income=9100))
        others += 1
    assert (await handle.describe()).run_id != run_id

    again = await driver.post(VILLAGE_CADRE, monitoring_id, "visits", visit(today), **retry)
    assert again.status_code == 200, again.text
    assert _recorded(again.json()) == _recorded(first.json())
    timeline = (await driver.cases.get(COUNTY_OFFICER, f"/api/v1/monitoring/{monitoring_id}/timeline")).json()
    assert [e["action"] for e in timeline["entries"]].count("record_visit") == 1 + others
    assert (await driver.get(monitoring_id))["visits_recorded"] == 1 + others
