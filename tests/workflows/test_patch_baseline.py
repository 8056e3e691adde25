"""A case started on the patch baseline takes every patch's new path with one marker and one search
attribute upsert in its history, not two events per patch (services/workflows/patches.py). Runs
begun before the baseline still ask each patch: the saved histories replay (test_saved_histories_replay.py)."""

from __future__ import annotations

import ast
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from services.demo_case import CaseDriver
from services.workflows.identification import identification_workflow_id
from services.workflows.patches import BASELINE, BASELINED
from tests.conftest import NewHousehold
from tests.workflow_history import history_events, patch_markers, search_attribute_upserts

WORKFLOWS = Path(__file__).resolve().parents[2] / "services" / "workflows"


async def test_a_new_case_marks_the_baseline_only(
    driver: CaseDriver, temporal: WorkflowEnvironment, new_household: NewHousehold
) -> None:
    case = await driver.open_case(await new_household())
    case = await driver.through_review(case["case_id"])
    # The new paths, taken without their markers: the review waited for every department, whose
    # acceptances and answers were recorded (as light records, in local activities).
    assert case["step"] == "village_notice"
    assert {r["status"] for r in case["cross_check"]["requests"].values()} == {"answered"}

    events = await history_events(temporal.client, identification_workflow_id(case["household_code"]))
    assert patch_markers(events) == [BASELINE]
    assert search_attribute_upserts(events) == [{"TemporalChangeVersion"}]


def test_the_baseline_lists_patches_of_the_code() -> None:
    """A misspelt id on the baseline would leave that patch asked in every run."""
    assert BASELINED.issubset(_patch_ids_in_workflows())


def _patch_ids_in_workflows() -> set[str]:
    """The values of the module constants named `*_PATCH` in services/workflows."""
    found = set()
    for path in WORKFLOWS.glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if any(name.endswith("_PATCH") for name in names):
                    found.add(node.value.value)
    return found
