"""受理农户申报: a household's application and the township's answer, as the API's
`/api/v1/self-reports/{id}` and its decision serve them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.deps import Resources, SessionDep
from services.api.errors import described_errors
from services.api.self_reports.staff_routes import decide, get_self_report
from services.db.tables import Account
from services.domain.personal_data import masked_copy
from services.domain.self_reports.model import Acceptance
from services.web.deps import PageAccount, PostedForm, answer_of, body_of, idempotency_key_of
from services.web.forms import errors_by_field, form_body, form_fields, posted_values
from services.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FIELDS = form_fields(Acceptance)


async def _application_page(
    request: Request,
    account: Account,
    session: AsyncSession,
    application_id: str,
    values: Mapping[str, object] | None = None,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    detail = await get_self_report(application_id, account, session)
    beside, top = errors_by_field(FIELDS, errors or [])
    context = {
        "application": masked_copy(detail.model_dump(mode="json")),  # the page needs no whole ID number
        "fields": FIELDS,
        "values": values or {},
        "beside": beside,
        "top": top,
        "new_key": uuid.uuid4().hex,
        "may_decide": account.role in ("township_approver", "county_officer"),
    }
    return render(request, "self_report.html", context, account, status_code=status_code)


@router.get("/self-reports/{application_id}")
async def application(request: Request, application_id: str, account: PageAccount, session: SessionDep) -> Response:
    return await _application_page(request, account, session, application_id)


@router.post("/self-reports/{application_id}/decision")
async def decision(
    request: Request,
    application_id: str,
    posted: PostedForm,
    account: PageAccount,
    resources: Resources,
    session: SessionDep,
) -> Response:
    values = posted_values(posted)
    try:
        body = Acceptance.model_validate(form_body(FIELDS, posted))
    except ValidationError as bad:
        await get_self_report(application_id, account, session)  # outside the area: 404 first
        errors = described_errors(list(bad.errors()))[1]
        return await _application_page(request, account, session, application_id, values, errors, 422)
    key = idempotency_key_of(posted)
    answer = await answer_of(decide(application_id, body, request, account, resources, session, key))
    if answer.status_code >= 400:
        detail = body_of(answer)["detail"]
        errors = detail.get("errors") or [{"field": "", "message": detail["message"]}]
        return await _application_page(request, account, session, application_id, values, errors, answer.status_code)
    return RedirectResponse(f"/self-reports/{application_id}", status_code=303)
