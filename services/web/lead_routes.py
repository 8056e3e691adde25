"""新建线索: open a household's case from a page, as `POST /api/v1/cases` does."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from services.api.access import require_role
from services.api.deps import Resources, SessionDep
from services.api.errors import described_errors
from services.api.identification.routes import open_case
from services.api.identification.schemas import CaseOpen
from services.api.registry.service import household_page
from services.db.tables import Account
from services.domain.vocabulary import CASE_OPENING_ROLES, HouseholdStatus
from services.web.deps import PageAccount, PostedForm, answer_of, body_of, idempotency_key_of
from services.web.forms import errors_by_field, form_body, form_fields, posted_values
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
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
    existing: str | None = None,
) -> Response:
    households = await household_page(session, account.area_code, HouseholdStatus.not_monitored, 20, None, account)
    beside, top = errors_by_field(FIELDS, errors or [])
    context = {
        "fields": FIELDS,
        "values": values,
        "beside": beside,
        "top": top,
        "households": households.items,
        "new_key": uuid.uuid4().hex,
        "existing": existing,
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
    values = posted_values(posted)
    try:
        body = CaseOpen.model_validate(form_body(FIELDS, posted))
    except ValidationError as bad:
        return await _lead_page(request, account, session, values, described_errors(list(bad.errors()))[1], 422)
    answer = await answer_of(open_case(body, request, account, resources, session, idempotency_key_of(posted)))
    if answer.status_code >= 400:
        detail = body_of(answer)["detail"]
        errors = detail.get("errors") or [{"field": "", "message": detail["message"]}]
        return await _lead_page(request, account, session, values, errors, answer.status_code, detail.get("case_id"))
    return RedirectResponse(f"/cases/{body_of(answer)['case_id']}", status_code=303)
