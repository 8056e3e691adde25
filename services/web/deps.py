"""What page routes depend on: the signed-in account of the session cookie, and a posted form
that carries its CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from services.api.deps import Resources, SessionDep
from services.db.tables import Account
from services.web.csrf import CSRF_FIELD, check_form_token
from services.web.session import signed_in_account


async def page_account(request: Request, resources: Resources, session: SessionDep) -> Account:
    return await signed_in_account(request, resources, session)


PageAccount = Annotated[Account, Depends(page_account)]


async def posted_form(request: Request, resources: Resources) -> FormData:
    """The form, once its CSRF token is checked (403 otherwise). The raw body is read first, so it
    stays readable (the Idempotency-Key's fingerprint hashes it)."""
    await request.body()
    form = await request.form()
    check_form_token(request, resources.settings.jwt_secret, form.get(CSRF_FIELD))
    return form


PostedForm = Annotated[FormData, Depends(posted_form)]


def idempotency_key_of(form: FormData) -> str | None:
    """The key the page put in the form when it drew it: a double click or a resend after a lost
    connection sends the same key, and the action is taken once."""
    key = form.get("idempotency_key")
    return key if isinstance(key, str) and 0 < len(key) <= 100 and key.isprintable() else None
