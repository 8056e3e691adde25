"""我的待办: the one inbox (every kind of task, counts per kind, overdue first) with claim and
release, as the API's `GET /api/v1/tasks` serves it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from services.api.access import TASK_ROLES, require_role
from services.api.deps import SessionDep
from services.api.errors import ApiError, invalid
from services.api.tasks import claims as task_claims
from services.api.tasks.inbox import my_tasks, one_task, visible_task
from services.domain.form_fields import INT4_MAX
from services.domain.tasks import TASK_STEP_LABELS
from services.web.deps import PageAccount, PostedForm
from services.web.forms import posted_number
from services.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 30
TaskId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/tasks")
async def inbox(
    request: Request,
    account: PageAccount,
    session: SessionDep,
    step: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    require_role(account, *TASK_ROLES)
    chosen = step if step in TASK_STEP_LABELS else None
    page = await my_tasks(session, account, datetime.now(UTC), None, chosen, None, None, None, PAGE_SIZE, cursor)
    kinds = sorted(page.counts.items(), key=lambda kind: -kind[1])
    context = {"page": page, "kinds": kinds, "labels": TASK_STEP_LABELS, "step": chosen}
    return render(request, "tasks.html", context, account)


@router.post("/tasks/{task_id}/{change}")
async def change_claim(
    request: Request, task_id: TaskId, change: str, form: PostedForm, account: PageAccount, session: SessionDep
) -> Response:
    """Claim or release; htmx swaps the task's row in place, a plain form post comes back to the inbox.
    Someone quicker (409) is said on the row, in the API's words."""
    if change not in ("claim", "release"):
        raise ApiError(404, "not_found", "没有这个操作")
    version = posted_number(form, "version", INT4_MAX)
    if version is None:
        raise invalid("version", "应为整数")
    message = None
    try:
        task = await visible_task(session, account, task_id)
        await getattr(task_claims, change)(session, task, account, version)
        await session.commit()
    except ApiError as refusal:
        if refusal.status_code != 409:
            raise
        await session.rollback()
        message = refusal.detail.get("message") if isinstance(refusal.detail, dict) else None
    if "HX-Request" not in request.headers:
        if message:
            raise ApiError(409, "task_claim_refused", message)
        return RedirectResponse("/tasks", status_code=303)
    row = await one_task(session, task_id, account, datetime.now(UTC))
    return render(request, "task_row.html", {"task": row, "message": message}, account)
