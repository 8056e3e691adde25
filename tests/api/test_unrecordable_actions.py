"""An action whose data PostgreSQL refuses for good is refused (422 `unrecordable`) and changes
nothing; its record activity does not retry; the case (or monitoring period) is flagged for a
person's attention and goes on serving every other action.

PostgreSQL's refusal here is real: a CHECK constraint the test adds (tests/database_refusals.py),
or a NUL character sent past the API straight to Temporal, as a department warning or a bug
in a later layer could. The API's own validation is not what is tested."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from services.db.engine import create_engine
from services.db.policy_versions import current_policy
from services.demo_case import (
    COUNTY_OFFICER,
    DEMO_VILLAGE,
    TOWNSHIP_APPROVER,
    VILLAGE_CADRE,
    CaseDriver,
    authorisation,
    home_verification,
)
from services.demo_monitoring import SUPPORT_PERSON, MonitoringDriver
from services.domain.identification.state import Actor, CaseStart
from services.domain.vocabulary import Channel
from services.identification_starts import CaseUnrecordable, open_case
from services.settings import Settings
from services.workflows.identification import IdentificationWorkflow, identification_workflow_id
from services.workflows.monitoring import MonitoringWorkflow, monitoring_workflow_id
from services.workflows.self_report import SelfReportWorkflow, self_report_workflow_id
from tests.applicants import SmsLog, apply_signed_in, decide, mini, unregistered_head  # noqa: F401 (fixture)
from tests.conftest import NewHousehold
from tests.database_refusals import new_marker, refusing
from tests.inbox import inbox_tasks


def _unrecordable(answer: Any) -> None:
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail["code"] == "unrecordable"
    assert "无法保存" in detail["message"] and "未生效" in detail["message"]


async def _actions(driver: CaseDriver, case_id: str) -> list[str]:
    timeline = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}/timeline")).json()
    return [e["action"] for e in timeline["entries"]]


async def _workflow_and_read_model(
    driver: CaseDriver, temporal: WorkflowEnvironment, case: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    handle = temporal.client.get_workflow_handle(identification_workflow_id(case["household_code"]))
    state = (await handle.query(IdentificationWorkflow.state)).model_dump(mode="json")
    view = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case['case_id']}")).json()
    return state, {k: view[k] for k in state}


async def _listed_as_needing_attention(driver: CaseDriver, case: dict[str, Any]) -> bool:
    listed = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=case["household_code"])).json()
    return bool(listed["items"][0]["needs_attention"])


async def _at_authorisation(driver: CaseDriver, new_household: NewHousehold) -> dict[str, Any]:
    case = await driver.open_case(await new_household())
    await driver.act(VILLAGE_CADRE, case["case_id"], "home-verification", home_verification(await driver.today()))
    return case


async def _replays(temporal: WorkflowEnvironment, workflow_id: str, workflow: type) -> None:
    """The history, refusal and take-back included, replays against the code without a difference."""
    history = await temporal.client.get_workflow_handle(workflow_id).fetch_history()
    replayer = Replayer(workflows=[workflow], data_converter=temporal.client.data_converter)
    await replayer.replay_workflow(history, raise_on_replay_failure=True)


async def _no_activity_retrying(temporal: WorkflowEnvironment, workflow_id: str) -> None:
    description = await temporal.client.get_workflow_handle(workflow_id).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert [a.attempt for a in description.raw_description.pending_activities if a.attempt > 1] == []


async def test_a_step_the_database_refuses_changes_nothing_and_the_case_goes_on(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment, settings: Settings
) -> None:
    case = await _at_authorisation(driver, new_household)
    case_id = case["case_id"]
    marker = new_marker()
    refused_form = authorisation(on=await driver.today()) | {"signer_name": marker}
    async with refusing(settings.require_database_url(), "audit_entries", "data", marker):
        before, _ = await _workflow_and_read_model(driver, temporal, case)
        _unrecordable(await driver.post(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/authorisation", refused_form))

        state, recorded = await _workflow_and_read_model(driver, temporal, case)
        assert state == recorded, "the workflow and the read model agree"
        flagged = state.pop("needs_attention")
        assert [(f["action"], f["actor"], f["label"]) for f in flagged] == [
            ("record_authorisation", VILLAGE_CADRE, "录入承诺授权")
        ]
        assert "CheckViolation" in flagged[0]["error"] and "23514" in flagged[0]["error"]
        assert marker not in flagged[0]["error"]
        before.pop("needs_attention")
        assert {k: v for k, v in state.items() if k != "seq"} == {k: v for k, v in before.items() if k != "seq"}
        assert state["step"] == "authorisation" and state["authorisation"] is None and state["cross_check"] is None
        actions = await _actions(driver, case_id)
        assert actions[-1] == "record_refused" and "record_authorisation" not in actions
        attention = await inbox_tasks(driver, COUNTY_OFFICER, case_id, step="attention")
        assert [t["title"] for t in attention] == ["需要关注：「录入承诺授权」未能保存，未生效"]
        assert await _listed_as_needing_attention(driver, case)
        await _no_activity_retrying(temporal, identification_workflow_id(case["household_code"]))

        # The same step with storable data goes through; the flag and its task are settled.
        signed = await driver.act(VILLAGE_CADRE, case_id, "authorisation", authorisation(on=await driver.today()))
        assert signed["step"] == "cross_check" and signed["needs_attention"] == []
    assert await inbox_tasks(driver, COUNTY_OFFICER, case_id, step="attention") == []
    assert not await _listed_as_needing_attention(driver, case)
    crossed = await driver.wait_for_cross_check(case_id)
    assert crossed["cross_check"]["round"] == 1
    assert (await _actions(driver, case_id)).count("request_cross_check") == 1
    await _replays(temporal, identification_workflow_id(case["household_code"]), IdentificationWorkflow)


async def test_a_closing_step_the_database_refuses_leaves_the_case_open(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment, settings: Settings
) -> None:
    """A refused authorisation would end the case; refused by the database, it leaves it open."""
    case = await _at_authorisation(driver, new_household)
    case_id = case["case_id"]
    marker = new_marker()
    refusal = authorisation("refused", on=await driver.today()) | {"signer_name": marker}
    async with refusing(settings.require_database_url(), "audit_entries", "data", marker):
        _unrecordable(await driver.post(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/authorisation", refusal))
    state, recorded = await _workflow_and_read_model(driver, temporal, case)
    assert state == recorded
    assert state["step"] == "authorisation" and state["outcome"] is None and state["closed_at"] is None
    await _no_activity_retrying(temporal, identification_workflow_id(case["household_code"]))
    await driver.act(VILLAGE_CADRE, case_id, "authorisation", authorisation(on=await driver.today()))
    await driver.wait_for_cross_check(case_id)
    await _replays(temporal, identification_workflow_id(case["household_code"]), IdentificationWorkflow)


async def test_a_start_the_database_refuses_opens_no_case(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment, settings: Settings
) -> None:
    household = await new_household()
    # Through the API: its note refused by the database.
    marker = new_marker()
    async with refusing(settings.require_database_url(), "audit_entries", "data", marker):
        _unrecordable(
            await driver.post(
                VILLAGE_CADRE,
                "/api/v1/cases",
                {"household_code": household, "channel": "cadre_screening", "lead_note": marker},
            )
        )
    # Straight to Temporal, as the service starts cases itself: a NUL, which PostgreSQL cannot store.
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.connect() as conn:
        policy = await current_policy(conn)
    await engine.dispose()
    start = CaseStart(
        case_id=uuid.uuid4().hex,
        household_code=household,
        village_code=DEMO_VILLAGE,
        channel=Channel.department_warning,
        lead_note="住院\u0000自付",
        policy=policy,
        opened_by=Actor(username="system", display_name="系统", role=None, area_code=DEMO_VILLAGE),
    )
    with pytest.raises(CaseUnrecordable):
        await asyncio.wait_for(open_case(temporal.client, settings.temporal_task_queue, start), timeout=30)

    query = f"WorkflowId = '{identification_workflow_id(household)}'"
    for _ in range(50):  # visibility follows within moments
        runs = [w async for w in temporal.client.list_workflows(query)]
        if len(runs) == 2:
            break
        await asyncio.sleep(0.1)
    assert [r.status for r in runs] == [WorkflowExecutionStatus.FAILED] * 2
    assert (await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=household)).json()["items"] == []
    # Nothing holds the household: a case opens.
    opened = await driver.open_case(household)
    assert opened["step"] == "home_verification"


async def test_a_monitoring_action_the_database_refuses_changes_nothing(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment, settings: Settings
) -> None:
    await driver.publish_notice_seconds(0.5)
    monitoring = MonitoringDriver(driver)
    code = await new_household()
    case_id = await monitoring.to_notice(code)
    await driver.wait_for_step(case_id, "township_review")
    await driver.after_notice(case_id)
    period = await monitoring.period_of(code)
    monitoring_id = period["monitoring_id"]
    handle = temporal.client.get_workflow_handle(monitoring_workflow_id(code))
    marker = new_marker()
    async with refusing(settings.require_database_url(), "audit_entries", "data", marker):
        answer = await monitoring.post(
            TOWNSHIP_APPROVER, monitoring_id, "support-person", {"username": SUPPORT_PERSON, "note": marker}
        )
        _unrecordable(answer)
        state = await handle.query(MonitoringWorkflow.state)
        assert state.support_people == []
        assert [r.action for r in state.needs_attention] == ["appoint_support_person"]
        recorded = (await driver.get(COUNTY_OFFICER, f"/api/v1/monitoring/{monitoring_id}")).json()
        assert recorded["support_people"] == [] and recorded["seq"] == state.seq
        assert [r["label"] for r in recorded["needs_attention"]] == ["任命帮扶责任人"]
        await _no_activity_retrying(temporal, monitoring_workflow_id(code))
        appointed = await monitoring.act(
            TOWNSHIP_APPROVER, monitoring_id, "support-person", {"username": SUPPORT_PERSON, "note": "包联"}
        )
    assert [p["username"] for p in appointed["support_people"]] == [SUPPORT_PERSON]
    assert appointed["needs_attention"] == []
    await _replays(temporal, monitoring_workflow_id(code), MonitoringWorkflow)


async def test_a_self_report_decision_the_database_refuses_leaves_it_pending(
    mini: tuple[CaseDriver, SmsLog],
    driver: CaseDriver,
    settings: Settings,
    temporal: WorkflowEnvironment,
) -> None:
    api, sms = mini
    _, application_id = await apply_signed_in(api.http, sms, *unregistered_head())
    marker = new_marker()
    async with refusing(settings.require_database_url(), "self_report_events", "data", marker):
        _unrecordable(await decide(driver, TOWNSHIP_APPROVER, application_id, "reject", f"材料不全 {marker}"))
        shown = (await driver.get(TOWNSHIP_APPROVER, f"/api/v1/self-reports/{application_id}")).json()
        assert shown["status"] == "pending" and shown.get("rejection_reason") in (None, "")
    rejected = await decide(driver, TOWNSHIP_APPROVER, application_id, "reject", "材料不全，请补充住院证明")
    assert rejected.status_code == 200, rejected.text
    await _replays(temporal, self_report_workflow_id(application_id), SelfReportWorkflow)
