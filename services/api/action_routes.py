"""POST endpoints that act on a workflow-backed record (a case, a monitoring period): one
per action, built from a table, each answered once per `Idempotency-Key`.

(No `from __future__ import annotations` here: FastAPI must see each endpoint's form type
as a real object.)
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.deps import AppResources, CurrentAccount, IdempotencyKey, Resources, SessionDep
from services.api.idempotency import answer_once, fingerprint
from services.db.tables import Account

# (record id, payload, request, account, resources, session, idempotency key) → the answer
Act = Callable[[str, list[Any], Request, Account, AppResources, AsyncSession, str | None], Awaitable[JSONResponse]]


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


def add_form_route(
    router: APIRouter, id_name: str, path: str, form_type: type[BaseModel], act: Act, **route: Any
) -> None:
    """`POST /{<id_name>}/<path>` with a `form_type` body, handled by `act`."""

    async def endpoint(
        record_id: Annotated[str, Path(alias=id_name)],
        form: form_type,  # type: ignore[valid-type]
        request: Request,
        account: CurrentAccount,
        resources: Resources,
        session: SessionDep,
        key: IdempotencyKey,
    ) -> JSONResponse:
        return await act(record_id, [form], request, account, resources, session, key)

    router.add_api_route(f"/{{{id_name}}}/{path}", endpoint, methods=["POST"], response_model=None, **route)
