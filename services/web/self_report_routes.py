"""受理农户申报: a household's application and the township's answer, as the API's
`/api/v1/self-reports/{id}` and its decision serve them."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.deps import Resources, SessionDep
from services.api.self_reports.staff_routes import decide, get_self_report
from services.db.tables import Account
from services.domain.personal_data import masked_copy
from services.domain.self_reports.model import Acceptance
from services.domain.vocabulary import Role
from services.web.deps import PageAccount, PostedForm, idempotency_key_of
from services.web.form_posts import Problems, form_context, posted_model, refusal_of
from services.web.forms import form_fields, posted_values
from services.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FIELDS = form_fields(Acceptance)


async def _application_page(
    request: Request,
    account: Account,
    session: AsyncSession,
    application_id: str,
    values: Mapping[str, object] | None = None,
    problems: Problems | None = None,
    status_code: int = 200,
) -> Response:
    detail = await get_self_report(application_id, account, session)
    context = {
        "application": masked_copy(detail.model_dump(mode="json")),  # the page needs no whole ID number
        "fields": FIELDS,
        "may_decide": account.role in (Role.township_approver, Role.county_officer),
        **form_context(FIELDS, values, problems),
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
    body = posted_model(Acceptance, FIELDS, posted)
    if isinstance(body, list):
        await get_self_report(application_id, account, session)  # outside the area: 404 first
        refused: tuple[int, Problems] | None = (422, body)
    else:
        key = idempotency_key_of(posted)
        refused = await refusal_of(decide(application_id, body, request, account, resources, session, key))  # type: ignore[arg-type]
    if refused is None:
        return RedirectResponse(f"/self-reports/{application_id}", status_code=303)
    status, problems = refused
    return await _application_page(request, account, session, application_id, posted_values(posted), problems, status)
