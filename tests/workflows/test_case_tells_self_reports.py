"""A case that closes tells the self-report waiting on it itself: the signal is in the case's history
(sent once its closing is recorded), and the applicant hears the result."""

from __future__ import annotations

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.db.tables import SelfReportNotice
from services.demo_case import TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, authorisation, home_verification
from services.settings import Settings
from services.workflows.contracts import CASE_CLOSED, self_report_workflow_id
from services.workflows.identification import identification_workflow_id
from tests.applicants import SmsLog, apply_signed_in, decide, eventually, mini, registered_head  # noqa: F401 (fixture)
from tests.workflow_history import history_events, signals_received, signals_sent


async def _notice_kinds(settings: Settings, application_id: str) -> list[str]:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with engine.connect() as conn:
            found = await conn.scalars(
                select(SelfReportNotice.kind).where(
                    SelfReportNotice.application_id == application_id, SelfReportNotice.sent_at.is_not(None)
                )
            )
            return sorted(found.all())
    finally:
        await engine.dispose()


async def test_a_closed_case_tells_its_self_report(
    mini: tuple[CaseDriver, SmsLog], driver: CaseDriver, temporal: WorkflowEnvironment, settings: Settings
) -> None:
    api, sms = mini
    code, name, id_number = await registered_head(driver)
    household, application_id = await apply_signed_in(api.http, sms, name, id_number)
    accepted = await decide(driver, TOWNSHIP_APPROVER, application_id)
    assert accepted.status_code == 200, accepted.text
    case_id = accepted.json()["case_id"]

    # The household refuses to sign the authorisation: the case closes there.
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification(await driver.today()))
    closed = await driver.act(VILLAGE_CADRE, case_id, "authorisation", authorisation("refused", await driver.today()))
    assert closed["outcome"] == "authorisation_refused"

    self_report = self_report_workflow_id(application_id)
    case_history = await history_events(temporal.client, identification_workflow_id(code))
    assert (self_report, CASE_CLOSED) in signals_sent(case_history), "sent before the closing step answered"
    kinds = await eventually(lambda: _notice_kinds(settings, application_id), lambda k: "case_decided" in k)
    assert kinds == ["accepted", "case_decided"]
    assert signals_received(await history_events(temporal.client, self_report)) == [CASE_CLOSED]
    view = await household.view(application_id)
    assert view["case"]["outcome"] == "authorisation_refused"
