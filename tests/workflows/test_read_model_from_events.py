"""A case's events carry what changed, not its whole state: the read model derives each new state
from the row and the changes recorded since. It must stay exactly what the workflow holds, and a
case's whole read model must rebuild from its audit entries alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from services.db.engine import create_engine
from services.db.tables import AuditEntry, CaseRecord
from services.demo_case import (
    COUNTY_OFFICER,
    DEMO_VILLAGE,
    TOWNSHIP_APPROVER,
    VILLAGE_CADRE,
    CaseDriver,
    announcement,
    county_decision,
    democratic_review,
    home_verification,
    township_review,
)
from services.domain.changes import state_changes
from services.domain.identification.state import Actor, CaseEvent, CaseState
from services.domain.vocabulary import Step
from services.settings import Settings
from services.workers.identification.records import CaseRecordActivities
from services.workflows.identification import IdentificationWorkflow
from tests.conftest import NewHousehold
from tests.workflows.derived_state import derived_state

# The columns the record activity copies out of the state (besides the state itself).
_COLUMNS = ("step", "outcome", "policy_version", "opened_at", "due_at", "step_due_at", "closed_at", "last_seq")


@pytest_asyncio.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url, pool_size=2)
    yield engine
    await engine.dispose()


async def _row(engine: AsyncEngine, case_id: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(CaseRecord).where(col(CaseRecord.case_id) == case_id))).one()


async def _rebuilt(engine: AsyncEngine, case_id: str, upto: int) -> CaseState:
    async with engine.connect() as conn:
        return await derived_state(conn, case_id, {}, 0, upto)


async def test_the_read_model_is_the_workflow_state_and_rebuilds_from_events(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    """A case through every kind of change — a further lead, two township returns (each clears the
    cross-check round and its results), a second and a third round — then approved and announced."""
    await driver.publish_notice_seconds(1)
    household = await new_household()
    case_id = (await driver.open_case(household))["case_id"]
    await driver.act(VILLAGE_CADRE, case_id, "leads", {"channel": "self_report", "note": "农户再次申请"})
    await driver.through_review(case_id)
    await driver.wait_for_step(case_id, "township_review")
    case = await driver.act(TOWNSHIP_APPROVER, case_id, "township-review", township_review("return"))
    assert case["cross_check"] is None and case["cross_checks"] == {}
    await _verify_again(driver, case_id, home_verification(await driver.today(), household_size=5))
    await driver.wait_for_step(case_id, "township_review")
    await driver.act(TOWNSHIP_APPROVER, case_id, "township-review", township_review("return"))
    await _verify_again(driver, case_id, home_verification(await driver.today()))
    await driver.wait_for_step(case_id, "township_review")
    await driver.act(TOWNSHIP_APPROVER, case_id, "township-review", township_review())
    await driver.act(COUNTY_OFFICER, case_id, "county-decision", county_decision())
    await driver.act(TOWNSHIP_APPROVER, case_id, "announcement", announcement())

    handle = temporal.client.get_workflow_handle(f"identification-{household}")
    await handle.result()
    workflow_state = (await handle.query(IdentificationWorkflow.state)).model_dump(mode="json")
    row = await _row(engine, case_id)
    assert row.last_seq == workflow_state["seq"] > 20
    assert row.state == workflow_state, "the state derived event by event is the workflow's"
    rebuilt = await _rebuilt(engine, case_id, row.last_seq)
    assert rebuilt.model_dump(mode="json") == row.state, "the audit's changes alone give the same state"
    for column in _COLUMNS:
        assert getattr(row, column) == getattr(rebuilt, column.replace("last_seq", "seq")), column
    assert len(rebuilt.township_returns) == 2 and rebuilt.verification_round == 3
    assert len(rebuilt.further_leads) == 1 and rebuilt.step == Step.closed


async def _verify_again(driver: CaseDriver, case_id: str, verification: dict[str, Any]) -> None:
    """A later round: the authorisation stands, so the verification starts the cross-check again."""
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", verification)
    await driver.wait_for_step(case_id, "democratic_review")
    await driver.act(VILLAGE_CADRE, case_id, "democratic-review", democratic_review(on=await driver.today()))


def _event(state: CaseState, seq: int, before: dict[str, Any], whole: bool) -> CaseEvent:
    after = state.model_dump(mode="json")
    old, new = state_changes(before, after)
    return CaseEvent(
        workflow_id=f"identification-{state.household_code}",
        run_id="run",
        seq=seq,
        action="test",
        actor=Actor.system(state.county_code),
        at=state.step_started_at,
        data={},
        before=old,
        after=new,
        state=state.model_copy(update={"seq": seq}) if whole else None,
        case_id=state.case_id,
    )


def _case(case_id: str) -> CaseState:
    opened = datetime(2026, 11, 29, 2, tzinfo=UTC)
    return CaseState(
        case_id=case_id,
        household_code="610824100201990001",
        county_code="610824000000",
        township_code="610824100000",
        village_code=DEMO_VILLAGE,
        channel="cadre_screening",
        lead_note="",
        policy_version=1,
        step=Step.home_verification,
        opened_at=opened,
        due_at=opened + timedelta(days=15),
        step_started_at=opened,
        step_due_at=opened + timedelta(days=3),
    )


async def test_a_record_retried_changes_nothing_and_a_gap_is_refused_at_once(engine: AsyncEngine) -> None:
    records, env = CaseRecordActivities(engine), ActivityEnvironment()
    first = _case("light-record-test")
    await env.run(records.record_case_event, _event(first, 1, {}, whole=True))
    second = first.model_copy(update={"step": Step.authorisation, "lead_note": "补充"})
    light = _event(second, 2, first.model_dump(mode="json"), whole=False)
    assert light.state is None and set(light.after or {}) == {"step", "lead_note"}
    await env.run(records.record_case_event, light)
    row = await _row(engine, first.case_id)
    assert row.last_seq == 2 and row.step == "authorisation" and row.state["lead_note"] == "补充"

    await env.run(records.record_case_event, light)  # the activity retried after it wrote
    third = second.model_copy(update={"step": Step.cross_check})
    stale = _event(third, 2, second.model_dump(mode="json"), whole=False)  # a number already written
    await env.run(records.record_case_event, stale)
    assert (await _row(engine, first.case_id)).state == row.state

    gap = _event(third, 4, second.model_dump(mode="json"), whole=False)  # event 3 never written
    with pytest.raises(ApplicationError) as refused:
        await env.run(records.record_case_event, gap)
    assert refused.value.non_retryable and refused.value.type == "MissingEvents"
    async with engine.connect() as conn:
        entries = await conn.scalar(select(func.count()).where(col(AuditEntry.case_id) == first.case_id))
    assert entries == 2, "a refused event leaves no audit entry"
    assert (await _row(engine, first.case_id)).last_seq == 2
