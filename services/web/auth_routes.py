"""Signing in and out of the workbench, with the API's accounts, limits and Chinese refusals."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from services.api.deps import Resources, SessionDep, client_address
from services.api.errors import ApiError
from services.api.people.auth_routes import Login
from services.api.people.security import issue_token
from services.api.people.sign_in import sign_in
from services.web.csrf import keep_nonce, renew_nonce
from services.web.deps import PostedForm
from services.web.pages import PageRoute, render
from services.web.session import SESSION_COOKIE, end_session, record_sign_out, start_session

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _local(path: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another host)."""
    return path if path and path.startswith("/") and not path.startswith("//") and "\\" not in path else "/tasks"


@router.get("/")
async def home(request: Request) -> Response:
    return RedirectResponse("/tasks" if request.cookies.get(SESSION_COOKIE) else "/login", status_code=303)


@router.get("/login")
async def login_page(request: Request, next: str | None = None, ended: bool = False) -> Response:
    message = "登录已失效（您已退出或登录已过期），请重新登录" if ended else None
    return render(request, "login.html", {"next": _local(next), "message": message, "username": ""})


@router.post("/login")
async def login(request: Request, form: PostedForm, resources: Resources, session: SessionDep) -> Response:
    target = _local(str(form.get("next") or ""))
    username, password = form.get("username"), form.get("password")
    try:
        credentials = Login.model_validate({"username": username or "", "password": password or ""})
    except ValidationError:
        return _refused(request, target, str(username or ""), 422, "请填写用户名和密码")
    account = await sign_in(
        session, resources.settings, credentials.username, credentials.password, client_address(request)
    )
    await session.commit()  # the failure counted and audited, or the count reset
    if isinstance(account, ApiError):
        return _refused(request, target, credentials.username, account.status_code, _message_of(account))
    token, _ = issue_token(resources.settings, account.username, token_version=account.token_version)
    renew_nonce(request)
    response = RedirectResponse(target, status_code=303)
    start_session(request, response, token, resources.settings)
    keep_nonce(request, response)
    return response


def _refused(request: Request, target: str, username: str, status: int, message: str) -> Response:
    context = {"next": target, "message": message, "username": username}
    return render(request, "login.html", context, status_code=status)


@router.post("/logout")
async def logout(request: Request, form: PostedForm, resources: Resources, session: SessionDep) -> Response:
    await record_sign_out(request, session, resources.settings)
    renew_nonce(request)
    response = render(request, "login.html", {"next": "/tasks", "message": "您已安全退出", "username": ""})
    end_session(request, response)
    return response


def _message_of(refusal: ApiError) -> str:
    detail = refusal.detail
    return str(detail.get("message", "登录失败")) if isinstance(detail, dict) else "登录失败"
