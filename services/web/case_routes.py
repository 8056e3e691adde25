"""The case page (household masked, current step, deadlines, timeline, the form for the step the
reader may take now) and its form posts, through the same functions as the API's case routes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData

from services.api.deps import Resources, SessionDep
from services.api.errors import invalid, not_found
from services.api.evidence.service import CASE_ATTACHERS, Upload, attach_to_case
from services.api.identification.routes import take_case_action
from services.api.identification.service import visible_case
from services.api.identification.views import case_view
from services.api.registry.service import visible_household
from services.api.registry.views import household_view
from services.api.timelines import timeline
from services.db.evidence import Evidence
from services.db.tables import Account
from services.domain.identification.procedure import IDENTIFICATION
from services.domain.personal_data import masked_copy
from services.domain.vocabulary import Action, Step
from services.storage.evidence_store import EvidenceStore
from services.web.case_forms import case_policy, forms_for, objection_forms
from services.web.cross_check_form import read_cross_check
from services.web.deps import PageAccount, PostedForm
from services.web.evidence_routes import (
    EVIDENCE_FORM,
    STEPS_WITH_EVIDENCE,
    UPLOAD_FIELDS,
    evidence_section,
    refused_upload,
)
from services.web.form_posts import Problems, form_context, posted_action, posted_model
from services.web.forms import form_fields, posted_values
from services.web.pages import PageRoute, render
from services.web.timeline_labels import entry_label

router = APIRouter(route_class=PageRoute, include_in_schema=False)


async def case_page(
    request: Request,
    account: Account,
    session: AsyncSession,
    case_id: str,
    failed: str | None = None,
    values: dict[str, object] | None = None,
    problems: Problems | None = None,
    status_code: int = 200,
) -> Response:
    record = await visible_case(session, account, case_id)
    view = case_view(record.state, account)
    household = household_view(await visible_household(session, account, record.household_code), account, in_list=True)
    entries = await timeline(session, case_id, show_personal_data=False)  # the page shows no ID numbers
    forms = forms_for(account, view, await case_policy(session, view["policy_version"]))
    item_forms = objection_forms(account, view)
    # The failed form's problems beside its fields; a form the reader no longer has (the step moved on): on top.
    failing = UPLOAD_FIELDS if failed == EVIDENCE_FORM else item_forms.get(failed or "", [])
    failing = next((form.fields for form in forms if form.spec.action == failed), failing)
    max_bytes = request.app.state.resources.settings.evidence_max_bytes
    context = {
        "case": masked_copy(view),
        "household": household,
        "entries": [(entry_label(e.action), e) for e in reversed(entries)],
        "forms": forms,
        "item_forms": item_forms,
        "failed": failed,
        "evidence": await evidence_section(
            session, account, record.village_code, CASE_ATTACHERS, max_bytes, case_id=case_id
        ),
        "evidence_steps": list(STEPS_WITH_EVIDENCE.items()),
        **form_context(failing, values, problems),
    }
    return render(request, "case.html", context, account, status_code=status_code)


@router.get("/cases/{case_id}")
async def show_case(request: Request, case_id: str, account: PageAccount, session: SessionDep) -> Response:
    return await case_page(request, account, session, case_id)


@router.post("/cases/{case_id}/actions/{action}")
async def act(
    request: Request,
    case_id: str,
    action: str,
    posted: PostedForm,
    account: PageAccount,
    resources: Resources,
    session: SessionDep,
    item: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> Response:
    # Resolving an objection is the one numbered action on the page: it, and only it, names its item.
    if action not in set(Action) or (action == Action.resolve_objection) != (item is not None):
        raise not_found("没有这个办理事项")
    spec = IDENTIFICATION.action(Action(action))
    if spec.action == Action.record_cross_check:  # nested deeper than a drawn form: read row by row
        view = case_view((await visible_case(session, account, case_id)).state, account)
        read: Callable[[FormData], BaseModel | Problems] = partial(read_cross_check, view)
    else:
        read = partial(posted_model, spec.form, form_fields(spec.form))
    refused = await posted_action(
        posted,
        read,
        lambda: visible_case(session, account, case_id),
        lambda form, key: take_case_action(spec.action, case_id, form, item, request, account, resources, session, key),
    )
    if refused is None:
        return RedirectResponse(f"/cases/{case_id}", status_code=303)
    status, problems = refused
    failed = f"{action}-{item}" if item is not None else action
    return await case_page(request, account, session, case_id, failed, posted_values(posted), problems, status)


@router.post("/cases/{case_id}/evidence")
async def attach_evidence(
    request: Request, case_id: str, posted: PostedForm, account: PageAccount, resources: Resources, session: SessionDep
) -> Response:
    async def attach(store: EvidenceStore, upload: Upload, limit: int) -> tuple[Evidence, bool]:
        step = posted.get("step") or None
        if step is not None and step not in set(Step):
            raise invalid("step", "请选择所证明的环节")
        return await attach_to_case(session, store, account, case_id, upload, Step(step) if step else None, limit)

    problems = await refused_upload(posted, resources, session, attach)
    if problems is None:
        return RedirectResponse(f"/cases/{case_id}#evidence", status_code=303)
    return await case_page(request, account, session, case_id, EVIDENCE_FORM, posted_values(posted), problems, 422)
