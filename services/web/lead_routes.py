"""新建线索: open a household's case from a page, as `POST /api/v1/cases` does."""

from __future__ import annotations

import json
from collections.abc import Mapping

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from services.api.access import require_role
from services.api.deps import Resources, SessionDep
from services.api.errors import ApiError
from services.api.identification.routes import open_case
from services.api.identification.schemas import CaseOpen
from services.api.registry.service import household_page
from services.db.tables import Account
from services.domain.vocabulary import CASE_OPENING_ROLES, HouseholdStatus
from services.web.deps import PageAccount, PostedForm, idempotency_key_of
from services.web.form_posts import Problems, form_context, posted_model
from services.web.forms import form_fields, posted_values
from services.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FIELDS = form_fields(CaseOpen)
for _field in FIELDS:
    _field.hint = {"household_code": "18位户编码，可在下方本辖区农户中选择"}.get(_field.name, "")


async def _lead_page(
    request: Request,
    account: Account,
    session: SessionDep,
    values: Mapping[str, object],
    problems: Problems | None = None,
    status_code: int = 200,
    existing: str | None = None,
) -> Response:
    households = await household_page(session, account.area_code, HouseholdStatus.not_monitored, 20, None, account)
    context = {
        "fields": FIELDS,
        "households": households.items,
        "existing": existing,  # the household's open case, when the lead belongs to it
        **form_context(FIELDS, values, problems),
    }
    return render(request, "lead.html", context, account, status_code=status_code)


@router.get("/cases/new")
async def new_lead(
    request: Request, account: PageAccount, session: SessionDep, household_code: str | None = None
) -> Response:
    require_role(account, *CASE_OPENING_ROLES)
    values = {"household_code": household_code or "", "channel": "cadre_screening"}
    return await _lead_page(request, account, session, values)


@router.post("/cases/new")
async def open_lead(
    request: Request, posted: PostedForm, account: PageAccount, resources: Resources, session: SessionDep
) -> Response:
    body = posted_model(CaseOpen, FIELDS, posted)
    if isinstance(body, list):
        return await _lead_page(request, account, session, posted_values(posted), body, 422)
    try:
        answer = await open_case(body, request, account, resources, session, idempotency_key_of(posted))  # type: ignore[arg-type]
    except ApiError as refusal:
        if refusal.status_code not in (409, 422):
            raise
        answer = JSONResponse({"detail": refusal.detail}, status_code=refusal.status_code)
    found = json.loads(bytes(answer.body))
    if answer.status_code < 400:
        return RedirectResponse(f"/cases/{found['case_id']}", status_code=303)
    detail = found["detail"]
    problems = detail.get("errors") or [{"field": "", "message": detail["message"]}]
    return await _lead_page(
        request, account, session, posted_values(posted), problems, answer.status_code, detail.get("case_id")
    )
