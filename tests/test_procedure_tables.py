"""Each procedure's table and the code agree: every action has its route (with the table's form),
its workflow Update (taking that form) and its role; every step a person completes has its action,
a label, a task in the inbox for the table's role and (identification) a deadline in the policy and
the household's wording. And a new step
is one entry: the derived routes, labels and deadlines follow from the table alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel
from temporalio import workflow

from services.api.action_routes import add_action_routes
from services.api.identification import routes as identification_routes
from services.api.monitoring import action_routes as monitoring_action_routes
from services.domain.identification.escalation import step_role
from services.domain.identification.procedure import IDENTIFICATION
from services.domain.identification.state import CaseState
from services.domain.monitoring.forms import ExitProposal
from services.domain.monitoring.procedure import MONITORING
from services.domain.monitoring.state import ExitProcedure, MonitoringState
from services.domain.monitoring.tasks import open_tasks
from services.domain.monitoring.vocabulary import ExitStep, TaskKind
from services.domain.policy import DEFAULT_POLICY
from services.domain.procedure import ActionSpec, Procedure, StepSpec
from services.domain.self_reports.applicant_texts import CASE_STEP_TEXTS
from services.domain.tasks import identification_tasks
from services.domain.vocabulary import Channel, HouseholdStatus, Role, Step
from services.workflows.identification import IdentificationWorkflow
from services.workflows.monitoring import MonitoringWorkflow

TABLES = [
    pytest.param(IDENTIFICATION, IdentificationWorkflow, "/api/v1/cases/{case_id}", id="identification"),
    pytest.param(MONITORING, MonitoringWorkflow, "/api/v1/monitoring/{monitoring_id}", id="monitoring"),
]


def _post_routes() -> dict[str, APIRoute]:
    routers = (identification_routes.router, monitoring_action_routes.router)
    return {
        r.path: r
        for router in routers
        for r in router.routes
        if isinstance(r, APIRoute) and "POST" in (r.methods or ())
    }


@pytest.mark.parametrize(("table", "workflow_class", "prefix"), TABLES)
def test_every_action_has_its_route_with_the_tables_form(
    table: Procedure[Any, Any], workflow_class: type, prefix: str
) -> None:
    routes = _post_routes()
    for spec in table.actions:
        route = routes.get(f"{prefix}/{spec.path}")
        assert route is not None, f"{spec.action}: no POST {prefix}/{spec.path}"
        assert route.summary == spec.title and route.name == spec.action
        assert route.body_field is not None and route.body_field.field_info.annotation is spec.form, spec.action


@pytest.mark.parametrize(("table", "workflow_class", "prefix"), TABLES)
def test_every_action_calls_an_update_taking_its_form(
    table: Procedure[Any, Any], workflow_class: type, prefix: str
) -> None:
    updates = workflow._Definition.must_from_class(workflow_class).updates
    for spec in table.actions:
        update = updates.get(spec.update_name)
        assert update is not None, f"{spec.action}: {workflow_class.__name__} has no Update {spec.update_name}"
        assert update.validator is not None, f"{spec.update_name} checks step and role before history"
        assert update.arg_types is not None and len(update.arg_types) == 1, "one typed input per Update"
        (given,) = update.arg_types
        assert issubclass(given, BaseModel) and given.model_fields["form"].annotation is spec.form, spec.action


@pytest.mark.parametrize(("table", "workflow_class", "prefix"), TABLES)
def test_every_step_a_person_completes_is_labelled_and_taken_there(
    table: Procedure[Any, Any], workflow_class: type, prefix: str
) -> None:
    for step in table.steps:
        assert step.label, step.step
        if step.action is not None:
            assert step.step in table.action(step.action).steps, f"{step.action} may be taken at {step.step}"
    for spec in table.actions:
        assert spec.roles and spec.label and spec.title
        assert spec.steps <= {s.step for s in table.steps}


def test_identification_steps_have_deadlines_tasks_and_the_households_wording() -> None:
    assert set(DEFAULT_POLICY.step_days) == set(IDENTIFICATION.step_days), "the policy's deadlines are the table's"
    for step in IDENTIFICATION.steps:
        if step.step == Step.closed:
            assert step.step not in CASE_STEP_TEXTS
            continue
        assert CASE_STEP_TEXTS[step.step] == step.applicant and all(step.applicant or ())
        spec = IDENTIFICATION.completing(step.step)
        if spec is None:
            continue
        assert step.step in DEFAULT_POLICY.step_days, f"{step.step} waits on a person: it needs a deadline"
        assert step_role(step.step) == spec.role, "the escalation knows who acts there"
        (task,) = [t for t in identification_tasks(_case_at(step.step)) if t.step == step.step]
        assert (task.action, task.role, task.title) == (spec.action, spec.role, step.label)


def test_exit_steps_a_person_completes_are_tasks_for_the_tables_role() -> None:
    for step in MONITORING.steps:
        spec = MONITORING.completing(step.step)
        if spec is None:
            continue
        (task,) = [t for t in open_tasks(_period_in_exit_at(step.step)) if t.kind == TaskKind.exit_step]
        assert (task.role, task.detail) == (spec.role, step.label)


def _period_in_exit_at(step: ExitStep) -> MonitoringState:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    return MonitoringState(
        monitoring_id="m1",
        household_code="610824001001000001",
        county_code="610824",
        township_code="610824001",
        village_code="610824001001",
        policy_version=1,
        status=HouseholdStatus.risk_not_eliminated,
        since=now,
        clock_started_at=now,
        visits_owed_from=now,
        exits=[ExitProcedure(exit_no=1, step=step, proposal=ExitProposal(), proposed_by="cadre", proposed_at=now)],
    )


def _case_at(step: Step) -> CaseState:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    return CaseState(
        case_id="c1",
        household_code="610824001001000001",
        county_code="610824",
        township_code="610824001",
        village_code="610824001001",
        channel=Channel.cadre_screening,
        lead_note="",
        policy_version=1,
        step=step,
        opened_at=now,
        due_at=now + timedelta(days=15),
        step_started_at=now,
        step_due_at=now + timedelta(days=3),
    )


class _Step(StrEnum):
    draft = "draft"
    sign = "sign"
    done = "done"


class _Action(StrEnum):
    write = "write"
    sign = "sign"


class _Form(BaseModel):
    note: str = ""


def test_a_new_step_is_one_entry() -> None:
    """The routes, labels, deadlines and who completes a step all come from the table's entries."""
    table = Procedure(
        subject="草稿",
        steps=(
            StepSpec(_Step.draft, "起草", _Action.write, days=2),
            StepSpec(_Step.sign, "签字", _Action.sign, days=1),
            StepSpec(_Step.done, "完成"),
        ),
        actions=(
            ActionSpec(_Action.write, (Role.village_cadre,), "起草", _Form, "draft", "起草", frozenset({_Step.draft})),
            ActionSpec(
                _Action.sign,
                (Role.township_approver,),
                "签字",
                _Form,
                "items/{item_no}/signature",
                "签字",
                frozenset({_Step.sign}),
            ),
        ),
    )
    assert table.labels == {_Step.draft: "起草", _Step.sign: "签字", _Step.done: "完成"}
    assert table.step_days == {_Step.draft: 2, _Step.sign: 1}
    assert table.completing(_Step.sign) == table.action(_Action.sign) and table.completing(_Step.done) is None
    router = APIRouter(prefix="/drafts")

    async def act(*args: Any) -> Any:
        raise AssertionError("not called")

    add_action_routes(router, "draft_id", table, act, "")
    paths = {r.path: r for r in router.routes if isinstance(r, APIRoute)}
    assert set(paths) == {"/drafts/{draft_id}/draft", "/drafts/{draft_id}/items/{item_no}/signature"}
    signature = paths["/drafts/{draft_id}/items/{item_no}/signature"]
    assert [p.alias for p in signature.dependant.dependencies[0].path_params] == ["item_no"]


def test_a_step_described_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="step is described twice"):
        Procedure(subject="草稿", steps=(StepSpec(_Step.draft, "起草"), StepSpec(_Step.draft, "起草")), actions=())
