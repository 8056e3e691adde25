"""Records identification workflow histories with the workflow code of a given git
revision, for the replay test (test_saved_histories_replay.py). Rerun when a saved
history is to be added (from the repository root):

    uv run python -m tests.workflows.histories.record_identification_history <revision> [scenario ...]

It runs the service as the tests do — an embedded PostgreSQL with the demo data, a
Temporal dev server, the department simulator (every demo department registered at it),
the API over real HTTP (where departments call back) and a worker with the real
activities and inbox forwarder — but with that revision's IdentificationWorkflow. It
drives three cases and writes their histories as JSON next to this file:

- `announced`: an objection upheld sends the case back to home verification, so the
  cross-check runs a second round; then notice, reviews and announcement.
- `in_notice`: every department answered; left waiting in its five-day notice.
- `settled_by_hand`: one department never answers; its request goes overdue, is re-sent,
  goes overdue again and is recorded by hand while the case waits at `cross_check`; then
  the review and the notice; left at township review.

Name scenarios after the revision to record only those.

Payloads are encrypted with the development key, as in the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from services.db.engine import create_engine
from services.db.tables import Household
from services.demo_case import DEMO_VILLAGE
from services.demo_data import load_demo_departments
from services.department_simulator.client import SimulatorClient, start_simulator
from services.devstack.servers import free_port, start_embedded_postgres, venv_binary
from services.domain.identification import forms
from services.domain.identification.state import Actor, CaseStart
from services.domain.policy import Policy
from services.domain.vocabulary import Department, Step
from services.settings import Settings
from services.temporal_client import data_converter
from services.workers.departments.inbox import DepartmentInbox
from services.workers.identification.cross_checks import CrossCheckActivities
from services.workers.identification.records import CaseRecordActivities
from services.workers.monitoring.handover import MonitoringHandOver
from services.workers.self_reports.links import SelfReportLinks
from tests.conftest import migrate_with_demo_data, serving_api

HERE = Path(__file__).resolve().parent
TASK_QUEUE = "replay"
CADRE = Actor(username="dongkeng.cadre", display_name="张村干部", role="village_cadre", area_code=DEMO_VILLAGE)
TOWNSHIP = Actor(
    username="dongkeng.approver", display_name="王审核", role="township_approver", area_code="610824100000"
)
COUNTY = Actor(username="county.officer", display_name="李科长", role="county_officer", area_code="610824000000")
NOTICE_SECONDS = 1 / 86400
TODAY = date(2026, 11, 29)


def _workflow_class(revision: str) -> type:
    source = subprocess.run(
        ["git", "show", f"{revision}:services/workflows/identification.py"], check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "identification_at_revision.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("identification_at_revision", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.IdentificationWorkflow


def _verification() -> forms.HomeVerification:
    return forms.HomeVerification(
        visited_on=TODAY,
        verifiers=["张村干部", "刘网格员"],
        household_size=4,
        income=forms.IncomeBySource(wage=12000, business_net=3000, property_income=0, transfer=4200),
        compliant_spending=9000,
        living_conditions=forms.LivingConditions(
            food_and_clothing=True,
            compulsory_education=True,
            basic_medical_care=False,
            safe_housing=True,
            safe_drinking_water=True,
        ),
        risk_types=["illness"],
        labour_capacity="partial",
        able_workers=2,
        proposed_category="marginal",
    )


def _review() -> forms.DemocraticReview:
    return forms.DemocraticReview(
        held_on=TODAY,
        eligible_representatives=12,
        # Every attendee with a role (reviews without them are refused since roles were asked for).
        attendees=[
            forms.Attendee(name="王支书", role="village_committee"),
            *(forms.Attendee(name=f"代表{i}", role="villager_representative") for i in range(8)),
        ],
        votes_for=8,
        votes_against=1,
        abstentions=0,
    )


class Recorder:
    def __init__(self, client: Client, workflow_cls: Any) -> None:
        self.client, self.wf = client, workflow_cls

    async def until(self, handle: WorkflowHandle, done: Callable[[Any], bool], what: str) -> Any:
        for _ in range(300):
            state = await handle.query(self.wf.state)
            if done(state):
                return state
            await asyncio.sleep(0.1)
        raise AssertionError(f"{handle.id}: {what} did not happen within 30 s")

    async def authorised(self, household_code: str, name: str, policy: Policy) -> WorkflowHandle:
        """Opened, verified and authorised: the cross-check has started."""
        start = CaseStart(
            case_id=f"replay-{name}",
            household_code=household_code,
            village_code=DEMO_VILLAGE,
            channel="cadre_screening",
            policy=policy,
            opened_by=CADRE,
        )
        handle = await self.client.start_workflow(
            self.wf.run, start, id=f"identification-{household_code}", task_queue=TASK_QUEUE
        )
        await handle.execute_update(self.wf.verify_home, args=[CADRE, _verification()])
        await handle.execute_update(
            self.wf.record_authorisation,
            args=[CADRE, forms.Authorisation(decision="signed", signed_on=TODAY, signer_name="户主")],
        )
        return handle

    async def answered(self, handle: WorkflowHandle) -> None:
        await self.until(
            handle, lambda s: s.cross_check is not None and s.cross_check.complete, "every department's answer"
        )

    async def announced(self, household_code: str) -> WorkflowHandle:
        handle = await self.authorised(household_code, "announced", Policy(version=1, notice_days=5 * NOTICE_SECONDS))
        await handle.execute_update(self.wf.add_lead, args=[CADRE, forms.Lead(channel="self_report", note="又报")])
        await self.answered(handle)
        await handle.execute_update(self.wf.record_review, args=[CADRE, _review()])
        await handle.execute_update(
            self.wf.file_objection, args=[CADRE, forms.Objection(received_on=TODAY, content="有车")]
        )
        await handle.execute_update(
            self.wf.resolve_objection,
            args=[
                CADRE,
                1,
                forms.ObjectionResolution(decision="upheld", upheld_action="reverify", findings="需重新核查车辆情况"),
            ],
        )
        await handle.execute_update(self.wf.verify_home, args=[CADRE, _verification()])  # the second round
        await self.answered(handle)
        await handle.execute_update(self.wf.record_review, args=[CADRE, _review()])
        await self.until(handle, lambda s: s.step == Step.township_review, "the end of the notice")
        await handle.execute_update(
            self.wf.review_in_township, args=[TOWNSHIP, forms.TownshipReview(decision="approve")]
        )
        await handle.execute_update(self.wf.decide_in_county, args=[COUNTY, forms.CountyDecision(decision="approve")])
        await handle.execute_update(self.wf.announce, args=[TOWNSHIP, forms.Announcement(announced_on=TODAY)])
        await handle.result()
        return handle

    async def in_notice(self, household_code: str) -> WorkflowHandle:
        handle = await self.authorised(household_code, "in-notice", Policy(version=1))
        await self.answered(handle)
        await handle.execute_update(self.wf.record_review, args=[CADRE, _review()])
        return handle

    async def settled_by_hand(self, household_code: str, departments: SimulatorClient) -> WorkflowHandle:
        """The review waits for the cross-check: the silent department is settled by hand first."""
        await departments.behave(Department.vehicles, silent=True)
        policy = Policy(version=1, notice_days=2 * NOTICE_SECONDS, step_days={Step.cross_check: 3 * NOTICE_SECONDS})
        handle = await self.authorised(household_code, "settled-by-hand", policy)

        def vehicles_overdue(state: Any) -> bool:
            return state.cross_check is not None and state.cross_check.requests[Department.vehicles].status == "overdue"

        await self.until(handle, vehicles_overdue, "the vehicles department's deadline")
        await handle.execute_update(
            self.wf.resend_cross_check,
            args=[COUNTY, forms.CrossCheckResend(department=Department.vehicles, note="已电话联系")],
        )
        await self.until(
            handle,
            lambda s: vehicles_overdue(s) and s.cross_check.requests[Department.vehicles].resends == 1,
            "the re-sent request's deadline",
        )
        result = forms.CrossCheckResult(
            department=Department.vehicles, status="completed", completed_at=datetime(2026, 11, 29, 10, tzinfo=UTC)
        )
        await handle.execute_update(
            self.wf.record_cross_check,
            args=[COUNTY, forms.CrossCheckEntry(results=[result], reason="部门系统故障，已线下调取比对结果")],
        )
        await handle.execute_update(self.wf.record_review, args=[CADRE, _review()])
        await self.until(handle, lambda s: s.step == Step.township_review, "township review")
        return handle


async def _record(revision: str, workflow_cls: Any, database_url: str, simulator_url: str, names: list[str]) -> None:
    settings = Settings(
        environment="test",
        database_url=database_url,
        temporal_address="unused",
        temporal_task_queue=TASK_QUEUE,
        public_base_url=f"http://127.0.0.1:{free_port()}",
    )
    engine = create_engine(database_url)
    await load_demo_departments(engine, settings, simulator_url)
    async with engine.connect() as conn:
        households = list(
            await conn.scalars(
                select(Household.code).where(Household.village_code == DEMO_VILLAGE).order_by(Household.code).limit(3)
            )
        )
    async with (
        await WorkflowEnvironment.start_local(
            dev_server_existing_path=venv_binary("temporal"), data_converter=data_converter(settings), ui=False
        ) as env,
        serving_api(settings, env.client),
        httpx.AsyncClient(timeout=30) as http,
    ):
        records, cross_checks = CaseRecordActivities(engine), CrossCheckActivities(engine, settings, http)
        handover, links = MonitoringHandOver(env.client, engine, TASK_QUEUE), SelfReportLinks(engine)
        forwarder = asyncio.create_task(DepartmentInbox(engine, env.client, TASK_QUEUE).run())
        # Unsandboxed: the sandbox would re-import the revision's module by a name it cannot find.
        async with Worker(
            env.client,
            task_queue=TASK_QUEUE,
            workflows=[workflow_cls],
            activities=[
                records.record_case_event,
                cross_checks.plan_cross_check,
                cross_checks.send_cross_check_request,
                # Revisions since the hand-over moved into the workflow call these when a case closes.
                handover.tell_monitoring_case_ended,
                links.find_linked_self_reports,
            ],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            recorder = Recorder(env.client, workflow_cls)
            departments = SimulatorClient(simulator_url, http)
            scenarios = {
                "announced": lambda: recorder.announced(households[0]),
                "in_notice": lambda: recorder.in_notice(households[1]),
                "settled_by_hand": lambda: recorder.settled_by_hand(households[2], departments),
            }
            for name in names or list(scenarios):
                handle = await scenarios[name]()
                history = await handle.fetch_history()
                (HERE / f"identification_{revision}_{name}.json").write_text(history.to_json())
                print(f"wrote identification_{revision}_{name}.json ({len(history.events)} events)")
        forwarder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await forwarder
    await engine.dispose()


def main(revision: str, names: list[str]) -> None:
    workflow_cls = _workflow_class(revision)
    with tempfile.TemporaryDirectory(prefix="record-history-") as workdir:
        postgres, database_url = start_embedded_postgres(Path(workdir) / "postgres")
        simulator_port = free_port()
        simulator = start_simulator(simulator_port, log_file=Path(workdir) / "simulator.log")
        try:
            migrate_with_demo_data(database_url)
            asyncio.run(_record(revision, workflow_cls, database_url, f"http://127.0.0.1:{simulator_port}", names))
        finally:
            simulator.terminate()
            simulator.wait(timeout=15)
            postgres.cleanup()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
