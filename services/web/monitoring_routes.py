"""A monitoring period's page (监测帮扶): the support person, plans and their measures, visits and
open tasks, the exit procedure, with the forms a reader may fill in now: appointing the support
person, a plan, a visit, the exit's steps; and one form per numbered part (a plan's review, a
measure's delivery, an exit objection's resolution)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.deps import Resources, SessionDep
from services.api.errors import not_found
from services.api.evidence.routes import MAX_VISIT_NO
from services.api.evidence.service import PERIOD_ATTACHERS, Upload, attach_to_period
from services.api.monitoring.action_routes import appoint_support_person, take_monitoring_action
from services.api.monitoring.service import visible_period
from services.api.monitoring.views import monitoring_view
from services.db.evidence import Evidence
from services.db.tables import Account
from services.domain.monitoring.procedure import MONITORING
from services.domain.monitoring.vocabulary import ExitStep, MonitoringAction
from services.domain.personal_data import masked_copy
from services.domain.tasks import TASK_STEP_LABELS
from services.domain.vocabulary import HouseholdStatus
from services.storage.evidence_store import EvidenceStore
from services.web.deps import PageAccount, PostedForm
from services.web.evidence_routes import (
    EVIDENCE_FORM,
    UPLOAD_FIELDS,
    evidence_section,
    refused_upload,
    visit_choices,
)
from services.web.form_posts import Problems, form_context, posted_action, posted_model
from services.web.forms import FormField, form_fields, posted_number, posted_values
from services.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
_M = MonitoringAction
ON_THE_PAGE = tuple(spec.action for spec in MONITORING.actions if spec.item is None)
# Actions on one numbered part: a plan's review (plan_no), a measure's delivery (measure_id), an exit
# objection's resolution (objection_id).
NUMBERED = tuple(spec.action for spec in MONITORING.actions if spec.item is not None)
FIELDS = {action: form_fields(MONITORING.action(action).form) for action in ON_THE_PAGE + NUMBERED}
OPEN_MEASURES = ("proposed", "in_progress")


def period_forms(reader: Account, view: dict[str, Any]) -> list[tuple[str, str, list[FormField]]]:
    """(action, title, fields) the reader may take: by role, and the support person's own work by them alone."""
    people = view.get("support_people") or []
    support_person = people[-1]["username"] if people else None
    return [
        (str(spec.action), spec.title, FIELDS[spec.action])
        for spec in map(MONITORING.action, ON_THE_PAGE)
        if _may(reader, spec.action, support_person) and _open_now(spec.action, view)
    ]


def _open_now(action: MonitoringAction, view: dict[str, Any]) -> bool:
    """Whether the period's state asks for the action now: an exit step's action at that step, a
    proposal while monitored with no exit under way, a reversal once the risk is eliminated."""
    exit_ = (view.get("exits") or [None])[-1]
    open_step = exit_["step"] if exit_ and exit_["step"] != ExitStep.closed else None
    steps = MONITORING.action(action).steps
    if steps:
        return open_step in steps
    if action == _M.propose_exit:
        return open_step is None and view["status"] == HouseholdStatus.risk_not_eliminated
    if action == _M.reverse_exit:
        return view["status"] == HouseholdStatus.risk_eliminated
    return True


def _may(reader: Account, action: MonitoringAction, support_person: str | None) -> bool:
    spec = MONITORING.action(action)
    return reader.role in spec.roles and (not spec.assigned_only or reader.username == support_person)


def numbered_forms(reader: Account, view: dict[str, Any]) -> dict[str, list[FormField]]:
    """The forms on numbered parts the reader may fill in now, keyed `{action}-{number}`: the review of
    a submitted plan (township approvers), the delivery of an approved plan's open measure (its
    support person)."""
    people = view.get("support_people") or []
    support_person = people[-1]["username"] if people else None
    forms: dict[str, list[FormField]] = {}
    for plan in view.get("plans") or []:
        if plan["status"] == "submitted" and _may(reader, _M.review_plan, support_person):
            forms[f"{_M.review_plan}-{plan['plan_no']}"] = FIELDS[_M.review_plan]
        for measure in plan["measures"] if plan["status"] == "approved" else []:
            if measure["status"] in OPEN_MEASURES and _may(reader, _M.deliver_measure, support_person):
                forms[f"{_M.deliver_measure}-{measure['measure_id']}"] = FIELDS[_M.deliver_measure]
    exit_ = (view.get("exits") or [None])[-1]
    if exit_ and _may(reader, _M.resolve_exit_objection, support_person) and _open_now(_M.resolve_exit_objection, view):
        for objection in (exit_.get("notice") or {}).get("objections") or []:
            if objection.get("resolution") is None:
                forms[f"{_M.resolve_exit_objection}-{objection['objection_id']}"] = FIELDS[_M.resolve_exit_objection]
    return forms


def _failing_fields(failed: str | None) -> list[FormField]:
    if failed == EVIDENCE_FORM:
        return UPLOAD_FIELDS
    return FIELDS[_M(failed.split("-")[0])] if failed else []


async def _period_page(
    request: Request,
    account: Account,
    session: AsyncSession,
    monitoring_id: str,
    failed: str | None = None,
    values: dict[str, object] | None = None,
    problems: Problems | None = None,
    status_code: int = 200,
) -> Response:
    record = await visible_period(session, account, monitoring_id)
    view = masked_copy(monitoring_view(record.state, account))
    max_bytes = request.app.state.resources.settings.evidence_max_bytes
    context = {
        "period": view,
        "labels": TASK_STEP_LABELS,
        "forms": period_forms(account, view),
        "item_forms": numbered_forms(account, view),
        "failed": failed,
        "evidence": await evidence_section(
            session, account, record.village_code, PERIOD_ATTACHERS, max_bytes, monitoring_id=monitoring_id
        ),
        "evidence_visits": await visit_choices(session, monitoring_id),
        **form_context(_failing_fields(failed), values, problems),
    }
    return render(request, "monitoring.html", context, account, status_code=status_code)


@router.get("/monitoring/{monitoring_id}")
async def period(request: Request, monitoring_id: str, account: PageAccount, session: SessionDep) -> Response:
    return await _period_page(request, account, session, monitoring_id)


@router.post("/monitoring/{monitoring_id}/actions/{action}")
async def act(
    request: Request,
    monitoring_id: str,
    action: str,
    posted: PostedForm,
    account: PageAccount,
    resources: Resources,
    session: SessionDep,
    item: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> Response:
    numbered = action in {str(a) for a in NUMBERED}
    if (not numbered and action not in {str(a) for a in ON_THE_PAGE}) or numbered != (item is not None):
        raise not_found("没有这个办理事项")
    spec = MONITORING.action(_M(action))

    def take(form: Any, key: str | None) -> Awaitable[JSONResponse]:
        if spec.action == _M.appoint_support_person:  # not a workflow action: the API's own route function
            return appoint_support_person(monitoring_id, form, request, account, resources, session, key)
        return take_monitoring_action(spec.action, monitoring_id, form, item, request, account, resources, session, key)

    refused = await posted_action(
        posted,
        lambda form: posted_model(spec.form, FIELDS[spec.action], form),
        lambda: visible_period(session, account, monitoring_id),
        take,
    )
    if refused is None:
        return RedirectResponse(f"/monitoring/{monitoring_id}", status_code=303)
    status, problems = refused
    failed = f"{action}-{item}" if numbered else action
    return await _period_page(request, account, session, monitoring_id, failed, posted_values(posted), problems, status)


@router.post("/monitoring/{monitoring_id}/evidence")
async def attach_evidence(
    request: Request,
    monitoring_id: str,
    posted: PostedForm,
    account: PageAccount,
    resources: Resources,
    session: SessionDep,
) -> Response:
    async def attach(store: EvidenceStore, upload: Upload, limit: int) -> tuple[Evidence, bool]:
        visit = posted_number(posted, "visit_no", MAX_VISIT_NO)
        return await attach_to_period(session, store, account, monitoring_id, upload, visit, limit)

    problems = await refused_upload(posted, resources, session, attach)
    if problems is None:
        return RedirectResponse(f"/monitoring/{monitoring_id}#evidence", status_code=303)
    return await _period_page(
        request, account, session, monitoring_id, EVIDENCE_FORM, posted_values(posted), problems, 422
    )
