"""A page's form posted to the API's functions: the model it stands for, the API's refusal in the
error model's words, and what a page needs to draw its forms again."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from services.api.errors import ApiError, described_errors
from services.domain.months import local_date
from services.web.deps import idempotency_key_of
from services.web.forms import FormField, errors_by_field, form_body

Problems = list[dict[str, str]]


def posted_model(model: type[BaseModel], fields: list[FormField], posted: FormData) -> BaseModel | Problems:
    """The form as the API's model, or its problems in the error model's words (`field`, `message`)."""
    return validated(model, form_body(fields, posted))


def validated(model: type[BaseModel], body: dict[str, Any]) -> BaseModel | Problems:
    try:
        return model.model_validate(body)
    except ValidationError as bad:
        return described_errors(list(bad.errors()))[1]


async def posted_action(
    posted: FormData,
    read: Callable[[FormData], BaseModel | Problems],
    check_visible: Callable[[], Awaitable[object]],
    take: Callable[[Any, str | None], Awaitable[JSONResponse]],
) -> tuple[int, Problems] | None:
    """A posted form, `read` into the API's model, taken through the API's function
    `take(form, idempotency_key)`: None when it acted, else the status and problems the page shows
    beside the form. A form with problems is
    first checked against the reader's area, so outside it the answer is 404, not the form's problems."""
    form = read(posted)
    if isinstance(form, list):
        await check_visible()
        return 422, form
    return await refusal_of(take(form, idempotency_key_of(posted)))


async def refusal_of(answering: Awaitable[JSONResponse]) -> tuple[int, Problems] | None:
    """Runs the API's function; None when it acted, else its refusal a page shows beside its form
    (409, 422; raised now or stored earlier for the same Idempotency-Key): status and problems, a
    refusal without fields as one problem for the form's top."""
    try:
        answer = await answering
    except ApiError as refusal:
        if refusal.status_code not in (409, 422):
            raise
        status, detail = refusal.status_code, refusal.detail if isinstance(refusal.detail, dict) else {}
    else:
        if answer.status_code < 400:
            return None
        status, detail = answer.status_code, dict(json.loads(bytes(answer.body))["detail"])
    return status, detail.get("errors") or [{"field": "", "message": str(detail.get("message", "请求未能处理"))}]


def form_context(
    fields: list[FormField], values: Mapping[str, object] | None, problems: Problems | None
) -> dict[str, Any]:
    """What the forms of a page are drawn with: values typed, problems beside their fields (the rest
    on top), today in the county (dates' default) and a new Idempotency-Key for each form drawn."""
    beside, top = errors_by_field(fields, problems or [])
    return {
        "values": values or {},
        "beside": beside,
        "top": top,
        "today": local_date(datetime.now(UTC)).isoformat(),
        "new_key": uuid.uuid4().hex,
    }
