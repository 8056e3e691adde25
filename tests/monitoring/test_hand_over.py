"""An announced case hands its household to monitoring itself: the hand-over is a (local) activity
in the case's history (not a side effect of recording it), and running it again changes nothing."""

from __future__ import annotations

from temporalio.testing import ActivityEnvironment

from services.db.engine import create_engine
from services.demo_case import VILLAGE_CADRE, authorisation, home_verification
from services.settings import Settings
from services.workers.monitoring.handover import CaseEnded, HandOver, MonitoringHandOver
from services.workflows.contracts import IDENTIFICATION_CONCLUDED, IDENTIFICATION_OPENED, monitoring_workflow_id
from services.workflows.identification import identification_workflow_id
from services.workflows.monitoring import MonitoringWorkflow
from tests.monitoring.conftest import Months
from tests.workflow_history import history_events, local_activity_results, signals_received, signals_sent

TASK_QUEUE = "monitoring-time-skipping"  # the `months` fixture's


async def test_an_announced_case_hands_over_in_its_history_once(months: Months, settings: Settings) -> None:
    [period] = await months.monitored(None)
    code, [case] = period["household_code"], period["cases"]
    client = months.env.client

    case_history = await history_events(client, identification_workflow_id(code))
    [result] = await local_activity_results(client, case_history, "tell_monitoring_case_ended", HandOver)
    assert result == HandOver.started_or_continued
    # Its opening was told too (no monitoring ran for the household then: nothing heard it).
    assert (monitoring_workflow_id(code), IDENTIFICATION_OPENED) in signals_sent(case_history)
    # What it told: the case, as the monitoring it started holds it (a local activity's input is not
    # in the history).
    monitoring = client.get_workflow_handle(monitoring_workflow_id(code))
    [told] = (await monitoring.query(MonitoringWorkflow.state)).cases
    assert told.case_id == case["case_id"] and told.outcome == "monitoring_target"
    ended = CaseEnded(case=told, monitoring_id=period["monitoring_id"])

    # The activity retried (say its first answer was lost): the monitoring goes on as it was.
    run_id = (await monitoring.describe()).run_id
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        again = await ActivityEnvironment().run(
            MonitoringHandOver(client, engine, TASK_QUEUE).tell_monitoring_case_ended, ended
        )
    finally:
        await engine.dispose()
    assert again == HandOver.started_or_continued
    assert (await monitoring.describe()).run_id == run_id, "the same monitoring run, not a second one"
    monitoring_history = await history_events(client, monitoring_workflow_id(code))
    assert signals_received(monitoring_history) == [IDENTIFICATION_CONCLUDED, IDENTIFICATION_CONCLUDED]
    state = await monitoring.query(MonitoringWorkflow.state)
    assert [c.case_id for c in state.cases] == [case["case_id"]] and state.monitoring_id == period["monitoring_id"]
    assert state.monitoring_id == ended.monitoring_id


async def test_a_case_on_a_monitored_household_tells_its_monitoring(months: Months) -> None:
    [period] = await months.monitored(None)
    code, monitoring_id = period["household_code"], period["monitoring_id"]
    client = months.env.client

    # A cadre opens a new case for the household: an open risk of its monitoring until the case ends.
    case_id = (await months.cases.open_case(code))["case_id"]
    period = await months.driver.wait_for(monitoring_id, lambda p: any(r["case_id"] == case_id for r in p["risks"]))
    [risk] = [r for r in period["risks"] if r["case_id"] == case_id]
    assert risk["source"] == "lead" and risk["closed_at"] is None
    assert "open_risk" in {u["code"] for u in period["assessment"]["unmet"]}
    case_history = await history_events(client, identification_workflow_id(code))
    assert signals_sent(case_history) == [(monitoring_workflow_id(code), IDENTIFICATION_OPENED)]

    # The household refuses the authorisation: the case ends, and the risk with it (not confirmed).
    today = await months.today()
    await months.cases.act(VILLAGE_CADRE, case_id, "home-verification", home_verification(today))
    closed = await months.cases.act(VILLAGE_CADRE, case_id, "authorisation", authorisation("refused", today))
    assert closed["outcome"] == "authorisation_refused"
    case_history = await history_events(client, identification_workflow_id(code))
    [result] = await local_activity_results(client, case_history, "tell_monitoring_case_ended", HandOver)
    assert result == HandOver.told
    period = await months.driver.wait_for(monitoring_id, lambda p: len(p["cases"]) == 2)
    [risk] = [r for r in period["risks"] if r["case_id"] == case_id]
    assert risk["closed_at"] is not None and risk["confirmed"] is False
    assert "open_risk" not in {u["code"] for u in period["assessment"]["unmet"]}
