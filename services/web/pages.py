"""Rendering pages: the templates, and refusals as pages a cadre can read (the API's Chinese
messages, the API's status codes), whatever part of the request refused."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from services.api.errors import ApiError, described_errors
from services.db.tables import Account
from services.domain.vocabulary import ROLE_LABELS, Role
from services.web.csrf import CSRF_FIELD, form_token, keep_nonce

HERE = Path(__file__).parent
BEIJING = ZoneInfo("Asia/Shanghai")
templates = Jinja2Templates(directory=HERE / "templates")


def beijing(moment: str | datetime | None, with_time: bool = True) -> str:
    """A moment as cadres read it: Beijing time, to the minute."""
    if moment is None:
        return ""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


templates.env.filters["beijing"] = beijing


def render(
    request: Request, template: str, context: dict[str, Any], account: Account | None = None, status_code: int = 200
) -> Response:
    secret = request.app.state.resources.settings.jwt_secret
    response = templates.TemplateResponse(
        request,
        template,
        {
            **context,
            "account": account,
            "role_label": ROLE_LABELS[Role(account.role)] if account else "",
            "csrf_field": CSRF_FIELD,
            "csrf_token": form_token(request, secret),
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},  # pages hold personal data: never kept by a shared cache
    )
    keep_nonce(request, response)
    return response


def refusal_page(request: Request, status_code: int, message: str, code: str = "") -> Response:
    if status_code == 401:
        back = request.url.path if request.method == "GET" else "/tasks"  # a form's post cannot be fetched again
        # A session that ended (signed out, expired, password changed) says so on the sign-in page.
        ended = "" if code == "not_signed_in" else "&ended=1"
        return RedirectResponse(f"/login?next={quote(back)}{ended}", status_code=303)
    return render(request, "refusal.html", {"status_code": status_code, "message": message}, status_code=status_code)


class PageRoute(APIRoute):
    """A page route: a refusal raised anywhere in the request (its dependencies too) is answered as a
    page with the API's status and Chinese message; not signed in, the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handle(request)
            except ApiError as refusal:
                detail: dict[str, Any] = refusal.detail if isinstance(refusal.detail, dict) else {}
                message = detail.get("message", "请求未能处理")
                return refusal_page(request, refusal.status_code, message, detail.get("code", ""))
            except RequestValidationError as bad:
                return refusal_page(request, 422, described_errors(list(bad.errors()))[0])

        return page
