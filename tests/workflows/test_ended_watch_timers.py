"""A watch that ends leaves no timer to wake the case for nothing: a cross-check round answered in
time cancels its deadline timer (time-skipping: days pass and nothing fires), and a closing taken
back leaves the deadline watch one timer, not a second for the same deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.demo_case import VILLAGE_CADRE, CaseDriver, authorisation, home_verification
from services.department_simulator.client import SimulatorClient
from services.domain.policy import DEFAULT_POLICY
from services.settings import Settings
from services.workflows.identification import identification_workflow_id
from tests.conftest import NewHousehold, new_household_body, time_skipping_api
from tests.database_refusals import new_marker, refusing
from tests.departments.signed import authorised_case
from tests.workflow_history import history_events

# The review gets 5 days (the notice 1, to fit the 15): its deadline lies past the round's 3-day one.
LONG_REVIEW = {"notice_days": 1, "step_days": {**DEFAULT_POLICY.step_days, "democratic_review": 5}}


@dataclass
class Timer:
    fires_at: datetime
    fate: str  # running, fired or canceled


def _timers(events: list[HistoryEvent]) -> list[Timer]:
    """Every timer the workflow started, by the moment it was set for and what became of it."""
    timers: dict[int, Timer] = {}
    for e in events:
        if e.HasField("timer_started_event_attributes"):
            timeout = e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            timers[e.event_id] = Timer(e.event_time.ToDatetime(tzinfo=UTC) + timeout, "running")
        elif e.HasField("timer_fired_event_attributes"):
            timers[e.timer_fired_event_attributes.started_event_id].fate = "fired"
        elif e.HasField("timer_canceled_event_attributes"):
            timers[e.timer_canceled_event_attributes.started_event_id].fate = "canceled"
    return list(timers.values())


async def _case_timers(client: Client, case: dict) -> list[Timer]:
    return _timers(await history_events(client, identification_workflow_id(case["household_code"])))


@pytest_asyncio.fixture(scope="module")
async def skipping(settings: Settings, live_api: object) -> AsyncIterator[tuple[WorkflowEnvironment, CaseDriver]]:
    async with time_skipping_api(settings, "identification-watch-timers", policy=LONG_REVIEW) as skipping:
        yield skipping


async def test_a_round_answered_in_time_cancels_its_deadline_timer(
    skipping: tuple[WorkflowEnvironment, CaseDriver], departments: SimulatorClient
) -> None:
    env, driver = skipping
    code = (await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())).json()["code"]
    case = await driver.wait_for_cross_check((await authorised_case(driver, code))["case_id"])
    assert case["step"] == "democratic_review", "every department answered at once"
    round_ends = max(datetime.fromisoformat(r["respond_by"]) for r in case["cross_check"]["requests"].values())
    review_due = datetime.fromisoformat(case["step_due_at"])
    assert review_due - round_ends > timedelta(days=1)

    # Past every deadline and re-ask time of the round, before the review's deadline.
    await env.sleep(round_ends - await env.get_current_time() + timedelta(hours=1))
    case = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case['case_id']}")).json()
    assert case["step"] == "democratic_review" and case["escalations"] == [], "the case waits on, not late"
    timers = await _case_timers(env.client, case)
    of_the_round = [t for t in timers if t.fires_at <= round_ends + timedelta(minutes=1)]
    assert of_the_round and {t.fate for t in of_the_round} == {"canceled"}, of_the_round
    assert [t.fate for t in timers if t.fate != "canceled"] == ["running"], "the review's deadline only"


async def test_a_closing_taken_back_keeps_one_deadline_timer(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment, settings: Settings
) -> None:
    case = await driver.open_case(await new_household())
    await driver.act(VILLAGE_CADRE, case["case_id"], "home-verification", home_verification(await driver.today()))
    marker = new_marker()
    refusal = authorisation("refused", on=await driver.today()) | {"signer_name": marker}
    async with refusing(settings.require_database_url(), "audit_entries", "data", marker):
        answer = await driver.post(VILLAGE_CADRE, f"/api/v1/cases/{case['case_id']}/authorisation", refusal)
    assert answer.status_code == 422, answer.text
    reopened = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case['case_id']}")).json()
    assert reopened["step"] == "authorisation" and reopened["outcome"] is None

    running = [t for t in await _case_timers(temporal.client, case) if t.fate == "running"]
    assert len(running) == 1, running
