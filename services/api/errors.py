"""Error answers in a shape every client can rely on, with messages cadres can read.

    {"detail": {"code": "...", "message": "中文说明", "field": "...", ...}}

422 answers list every problem: {"detail": {"code": "invalid", "message": ..., "errors": [{"field", "message"}]}}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.domain.form_fields import BROKEN_CHARACTER, printable


class FieldProblem(BaseModel):
    field: str = Field(description="有问题的字段，如 members[0].id_number")
    message: str


class ErrorDetail(BaseModel):
    """`code` is for programs, `message` for people; a refusal may add fields of its own
    (`field`, `current_step`, `retry_after`, …)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "code": "invalid",
                    "message": "members[0].id_number：身份证号校验位不正确，请核对后重新填写",
                    "errors": [{"field": "members[0].id_number", "message": "身份证号校验位不正确，请核对后重新填写"}],
                }
            ]
        },
    )

    code: str
    message: str
    errors: list[FieldProblem] | None = Field(default=None, description="422：逐项列出有问题的字段")


class ErrorAnswer(BaseModel):
    detail: ErrorDetail


# Documented on every operation: a request the edge refuses (any endpoint may, for its parameters).
# The other refusals share the shape; `ErrorModelApp` documents them operation by operation.
_INVALID = "请求有误：errors 逐项指出字段和原因，未做任何改动"
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {422: {"model": ErrorAnswer, "description": _INVALID}}
ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorAnswer"}

_REFUSALS = {
    401: "未登录、登录已失效、用户名或密码不正确，或部门签名无效",
    403: "已登录，但角色或管辖区域不允许此操作",
    404: "没有找到该记录，或不在您的管辖区域内",
    409: "与当前状态冲突（如环节已变化、已被他人处理），未做任何改动",
    413: "请求内容过大",
    422: _INVALID,
    429: "尝试太频繁：retry_after（秒）或 Retry-After 之后再试",
    503: "数据库或流程服务暂时不可用：Retry-After 秒后用同一个 Idempotency-Key 重试",
}
# Signed by a department's secret instead of a sign-in (INTERFACES.md): 401 for a bad signature.
_SIGNED_PATHS = ("/api/v1/callbacks/", "/api/v1/early-warnings")
# Sign-in itself: wrong credentials (401) and its limits (429).
_SIGN_IN_REFUSALS = {
    "/api/v1/auth/login": {401, 429},
    "/api/v1/self-service/sign-in/code": {429},
    "/api/v1/self-service/sign-in": {401},
}


def _refusals_of(path: str, method: str, operation: Mapping[str, Any]) -> set[int]:
    """What an operation may be refused with, from what it takes: a sign-in (401, and 403 for a
    role or area that may not), a record named in the path (404), a change to make (409), a body (413)."""
    if path == "/healthz":
        return set()  # answers as long as the process runs, whatever else is down
    signed_in, signed = "security" in operation, path.startswith(_SIGNED_PATHS)
    refusals = {422, 503} | _SIGN_IN_REFUSALS.get(path, set())
    if signed_in or signed:
        refusals |= {401}
    if signed_in:
        refusals |= {403}
    if "{" in path:
        refusals |= {404}
    if method != "get" and (signed_in or "{" in path):  # a state to conflict with: a record, or the caller's
        refusals |= {409}
    if "requestBody" in operation:
        refusals |= {413}
    return refusals


class ErrorModelApp(FastAPI):
    """FastAPI whose OpenAPI document lists, on every operation, each refusal it may answer, all in
    the one shape `ErrorAnswer` (a route's own description of a status is kept)."""

    def openapi(self) -> dict[str, Any]:
        document = super().openapi()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                for status in sorted(_refusals_of(path, method, operation)):
                    operation["responses"].setdefault(
                        str(status),
                        {"description": _REFUSALS[status], "content": {"application/json": {"schema": ERROR_SCHEMA}}},
                    )
        return document


class ApiError(HTTPException):
    def __init__(self, status_code: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(status_code, detail={"code": code, "message": message, **extra})


def not_found(message: str = "没有找到该记录，或您无权查看") -> ApiError:
    return ApiError(404, "not_found", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def conflict(code: str, message: str, **extra: Any) -> ApiError:
    return ApiError(409, code, message, **extra)


# Seconds a client is asked to wait before retrying a 503 (an outage of PostgreSQL or Temporal).
RETRY_AFTER_SECONDS = 5


def workflow_unavailable() -> ApiError:
    error = ApiError(503, "workflow_unavailable", "流程服务暂时不可用，请稍后用同一个 Idempotency-Key 重试")
    error.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return error


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid", f"{field}：{message}", errors=[{"field": field, "message": message}])


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith(("function-", "literal[")):
            path += f".{part}" if path else str(part)
    # Keys of the sender's own making (an unknown field) are echoed: only as far as they are safe.
    return printable(path or (str(loc[0]) if loc else "请求"))


def _message(error: Mapping[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error") or error["msg"]).removeprefix("Value error, ")
    templates = {
        "missing": "必填",
        "string_too_long": "不能超过{max_length}个字符",
        "string_too_short": "不能为空" if ctx.get("min_length") == 1 else "至少需要{min_length}个字符",
        "too_short": "至少需要{min_length}项",
        "too_long": "最多{max_length}项",
        "int_parsing": "应为整数",
        "int_type": "应为整数",
        "int_from_float": "应为整数",
        "float_parsing": "应为数字",
        "float_type": "应为数字",
        "bool_parsing": "应为是或否（true/false）",
        "bool_type": "应为是或否（true/false）",
        "string_type": "应为文本",
        "string_unicode": BROKEN_CHARACTER,
        "list_type": "应为列表",
        "dict_type": "格式不正确，应为对象",
        "model_type": "格式不正确，应为对象",
        "model_attributes_type": "格式不正确，应为对象",
        "date_parsing": "应为日期，格式如 2026-11-29",
        "date_from_datetime_parsing": "应为日期，格式如 2026-11-29",
        "date_type": "应为日期，格式如 2026-11-29",
        "datetime_parsing": "应为日期时间，格式如 2026-11-29T10:00:00+08:00",
        "datetime_from_date_parsing": "应为日期时间，格式如 2026-11-29T10:00:00+08:00",
        "datetime_type": "应为日期时间，格式如 2026-11-29T10:00:00+08:00",
        "timezone_aware": "日期时间须带时区，如 +08:00",
        "enum": "取值无效，可选：{expected}",
        "literal_error": "取值无效，可选：{expected}",
        "greater_than_equal": "不能小于{ge}",
        "greater_than": "必须大于{gt}",
        "less_than_equal": "不能大于{le}",
        "less_than": "必须小于{lt}",
        "extra_forbidden": "不认识的字段，请删除",
        "json_invalid": "请求内容不是有效的 JSON",
        "finite_number": "应为有效数字",
        "string_pattern_mismatch": "格式不正确",
    }
    template = templates.get(kind, "格式不正确")
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template


def described_errors(errors: Sequence[Mapping[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """Pydantic errors as `[{field, message}]` in words a reader understands, and a one-line summary."""
    items = [{"field": _field_path(tuple(e.get("loc", ()))), "message": _message(e)} for e in errors]
    return "；".join(f"{i['field']}：{i['message']}" for i in items[:5]), items


def validation_errors(errors: list[dict[str, Any]]) -> JSONResponse:
    summary, items = described_errors(errors)
    return JSONResponse(status_code=422, content={"detail": {"code": "invalid", "message": summary, "errors": items}})


# The framework's own refusals (no such route, a method the route lacks, a body it cannot read).
_FRAMEWORK_REFUSALS = {
    400: ("bad_request", "请求内容无法解析"),
    404: ("not_found", "没有这个接口"),
    405: ("method_not_allowed", "该接口不支持这种请求方法"),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _on_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_errors(list(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Errors raised with a plain text detail get the documented shape too."""
        detail: Any = exc.detail
        if not isinstance(detail, dict):
            code, message = _FRAMEWORK_REFUSALS.get(exc.status_code, ("error", "请求未能处理"))
            detail = {"code": code, "message": message}
        return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=exc.headers)
