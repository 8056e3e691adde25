"""超期督办: the county's (by township) or a township's (by village) overdue tasks and cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.api.access import list_scope, require_role
from services.api.deps import SessionDep
from services.api.tasks.inbox import overdue_overview
from services.domain.vocabulary import Role
from services.web.deps import PageAccount
from services.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/overdue")
async def overdue(
    request: Request,
    account: PageAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(max_length=12)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    require_role(account, Role.county_officer, Role.township_approver)
    scope = list_scope(account, area)
    overview = await overdue_overview(session, account, scope, datetime.now(UTC), 30, cursor)
    return render(request, "overdue.html", {"overview": overview}, account)
