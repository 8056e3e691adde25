"""POST endpoints that act on a workflow-backed record (a case, a monitoring period): one per
action of the procedure's table (services/domain/procedure.py), each answered once per
`Idempotency-Key`.

(No `from __future__ import annotations` here: FastAPI must see each endpoint's form type
as a real object.)
"""

from collections.abc import Awaitable, Callable, Collection
from enum import StrEnum
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.deps import (
    AppResources,
    IdempotencyKey,
    Resources,
    current_account,
    get_lone_session,
    get_session,
    lone_account,
)
from services.api.idempotency import answer_once, fingerprint
from services.db.tables import Account
from services.domain.procedure import ActionSpec, Procedure

# (record id, form, the numbered item the path names, request, account, resources, session, idempotency key)
Act = Callable[
    [str, BaseModel, int | None, Request, Account, AppResources, AsyncSession, str | None], Awaitable[JSONResponse]
]


async def answer_with_state(
    request: Request,
    account: Account,
    session: AsyncSession,
    key: str | None,
    act: Callable[[], Awaitable[BaseModel]],
    view: Callable[[dict[str, Any], Account], dict[str, Any]],
) -> JSONResponse:
    """Runs the action once per key and answers the record's new state as `view` shows it to `account`.
    The request's `session` is committed before the action runs (see `answer_once`)."""

    async def produce() -> tuple[int, Any]:
        state = await act()
        return 200, view(state.model_dump(mode="json"), account)

    return await answer_once(session, account.username, key, await fingerprint(request), produce)


def _item_param(path: str, largest: int) -> Callable[..., Awaitable[int | None]]:
    """The dependency reading the numbered item a path names (`objections/{objection_id}/resolution`);
    `async`, so FastAPI does not hand it to its thread pool."""
    start = path.find("{")
    if start < 0:

        async def no_item() -> None:
            return None

        return no_item
    name = path[start + 1 : path.index("}")]

    async def numbered(item: Annotated[int, Path(alias=name, ge=1, le=largest)]) -> int:
        return item

    return numbered


def add_form_route(
    router: APIRouter,
    id_name: str,
    path: str,
    form_type: type[BaseModel],
    act: Act,
    response_model: Any = None,
    item_max: int = 10_000,
    lone: bool = False,
    **route: Any,
) -> None:
    """`POST /{<id_name>}/<path>` with a `form_type` body, handled by `act`; a `{name}` in `path`
    names a numbered item of the record (1 to `item_max`). `lone`: `act` writes nothing with the
    request's session but one statement at a time, so the session is a lone one (`get_lone_session`)."""
    session_of, account_of = (get_lone_session, lone_account) if lone else (get_session, current_account)

    async def endpoint(
        record_id: Annotated[str, Path(alias=id_name)],
        item: Annotated[int | None, Depends(_item_param(path, item_max))],
        form: form_type,  # type: ignore[valid-type]
        request: Request,
        account: Annotated[Account, Depends(account_of)],
        resources: Resources,
        session: Annotated[AsyncSession, Depends(session_of)],
        key: IdempotencyKey,
    ) -> JSONResponse:
        return await act(record_id, form, item, request, account, resources, session, key)

    router.add_api_route(f"/{{{id_name}}}/{path}", endpoint, methods=["POST"], response_model=response_model, **route)


def add_action_routes(
    router: APIRouter,
    id_name: str,
    table: Procedure[Any, Any],
    act: Callable[..., Awaitable[JSONResponse]],
    description: str,
    response_model: Any = None,
    except_for: Collection[StrEnum] = (),
    lone: bool = False,
) -> None:
    """One route per action of `table` (but those in `except_for`, written by hand), each handled by
    `act(action, ...)`; the table gives its path, form and summary. `lone`: see `add_form_route`."""
    spec: ActionSpec[Any, Any]
    for spec in table.actions:
        if spec.action in except_for:
            continue
        add_form_route(
            router,
            id_name,
            spec.path,
            spec.form,
            partial(act, spec.action),
            response_model=response_model,
            item_max=spec.item_max,
            lone=lone,
            summary=spec.title,
            description=description,
            name=str(spec.action),
        )
