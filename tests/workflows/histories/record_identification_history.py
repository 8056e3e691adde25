"""Records identification workflow histories with the workflow code of a given git
revision, for the replay test (test_identification_replay.py). Rerun when a saved
history is to be added:

    uv run python tests/workflows/histories/record_identification_history.py 30cf3f3

It starts a Temporal dev server, runs that revision's IdentificationWorkflow with a
worker whose `record_case_event` activity writes nothing (only the workflow's own
commands matter for replay), drives two cases (one to announcement through an objection,
one left waiting in its notice), and writes their histories as JSON next to this file.
Payloads are encrypted with the development key, as in the tests.
"""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from services.domain import case_forms as forms
from services.domain.case_state import Actor, CaseEvent, CaseStart
from services.domain.policy import Policy
from services.devstack.servers import venv_binary
from services.settings import Settings
from services.temporal_client import data_converter

HERE = Path(__file__).resolve().parent
VILLAGE = "610824100201"
CADRE = Actor(username="dongkeng.cadre", display_name="张村干部", role="village_cadre", area_code=VILLAGE)
TOWNSHIP = Actor(username="dongkeng.approver", display_name="王审核", role="township_approver",
                 area_code="610824100000")
COUNTY = Actor(username="county.officer", display_name="李科长", role="county_officer", area_code="610824000000")


def _workflow_class(revision: str) -> type:
    source = subprocess.run(["git", "show", f"{revision}:services/workflows/identification.py"], check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "identification_at_revision.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("identification_at_revision", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.IdentificationWorkflow


@activity.defn(name="record_case_event")
async def record_nothing(event: CaseEvent) -> None:
    return None


def _verification() -> forms.HomeVerification:
    return forms.HomeVerification(
        visited_on=date(2026, 11, 29), verifiers=["张村干部", "刘网格员"], household_size=4,
        income=forms.IncomeBySource(wage=12000, business_net=3000, property_income=0, transfer=4200),
        compliant_spending=9000, living_conditions=forms.LivingConditions(
            food_and_clothing=True, compulsory_education=True, basic_medical_care=False, safe_housing=True,
            safe_drinking_water=True),
        risk_types=["illness"], labour_capacity="partial", able_workers=2, proposed_category="marginal")


async def _to_notice(client, workflow_cls, household_code: str, policy: Policy):
    start = CaseStart(case_id=f"replay{household_code[-6:]}", household_code=household_code, village_code=VILLAGE,
                      channel="cadre_screening", policy=policy, opened_by=CADRE)
    handle = await client.start_workflow(workflow_cls.run, start, id=f"identification-{household_code}",
                                         task_queue="replay")
    await handle.execute_update(workflow_cls.verify_home, args=[CADRE, _verification()])
    await handle.execute_update(workflow_cls.record_authorisation, args=[CADRE, forms.Authorisation(
        decision="signed", signed_on=date(2026, 11, 29), signer_name="户主")])
    results = [forms.CrossCheckResult(department=d, status="completed", completed_at=datetime.now(timezone.utc))
               for d in policy.cross_check_departments]
    await handle.execute_update(workflow_cls.record_cross_check, args=[COUNTY, forms.CrossCheckEntry(results=results)])
    await handle.execute_update(workflow_cls.add_lead, args=[CADRE, forms.Lead(channel="self_report", note="又报")])
    await handle.execute_update(workflow_cls.record_review, args=[CADRE, forms.DemocraticReview(
        held_on=date(2026, 11, 29), eligible_representatives=12, attendees=[f"代表{i}" for i in range(9)],
        votes_for=8, votes_against=1, abstentions=0)])
    return handle


async def main(revision: str) -> None:
    workflow_cls = _workflow_class(revision)
    settings = Settings(environment="test", database_url="unused", temporal_address="unused")
    async with await WorkflowEnvironment.start_local(dev_server_existing_path=venv_binary("temporal"),
                                                     data_converter=data_converter(settings), ui=False) as env:
        # Unsandboxed: the sandbox would re-import the revision's module by a name it cannot find.
        async with Worker(env.client, task_queue="replay", workflows=[workflow_cls], activities=[record_nothing],
                          workflow_runner=UnsandboxedWorkflowRunner()):
            done = await _to_notice(env.client, workflow_cls, "610824100201990001",
                                    Policy(version=1, notice_days=2 / 86400))
            await done.execute_update(workflow_cls.file_objection, args=[CADRE, forms.Objection(
                received_on=date(2026, 11, 29), content="有车")])
            await asyncio.sleep(2.5)
            await done.execute_update(workflow_cls.resolve_objection, args=[CADRE, 1, forms.ObjectionResolution(
                decision="dismissed", findings="不实")])
            for _ in range(50):
                if (await done.query(workflow_cls.state)).step == "township_review":
                    break
                await asyncio.sleep(0.1)
            await done.execute_update(workflow_cls.review_in_township, args=[TOWNSHIP, forms.TownshipReview(
                decision="approve")])
            await done.execute_update(workflow_cls.decide_in_county, args=[COUNTY, forms.CountyDecision(
                decision="approve")])
            await done.execute_update(workflow_cls.announce, args=[TOWNSHIP, forms.Announcement(
                announced_on=date(2026, 11, 29))])
            await done.result()
            waiting = await _to_notice(env.client, workflow_cls, "610824100201990002", Policy(version=1))
            for name, handle in (("announced", done), ("in_notice", waiting)):
                history = await handle.fetch_history()
                (HERE / f"identification_{revision}_{name}.json").write_text(history.to_json())
                print(f"wrote identification_{revision}_{name}.json ({len(history.events)} events)")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
