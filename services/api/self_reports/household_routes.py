"""The household mini-program (一键申报): sign in, apply, follow the application and its case, withdraw.

Applicant tokens are their own audience: they open nothing outside this router, and staff
tokens open nothing inside it. An applicant only ever sees the applications they submitted.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.api.deps import IdempotencyKey, Resources, SessionDep, client_address
from services.api.errors import ApiError
from services.api.idempotency import answer_once, fingerprint
from services.api.people.security import APPLICANT, issue_token
from services.api.registry.service import areas_under
from services.api.self_reports.applicants import (
    CurrentApplicant,
    applicant_for,
    issue_sign_in_code,
    send_sign_in_code,
    sign_in_code_problem,
)
from services.api.self_reports.schemas import (
    ApplicantToken,
    ApplicationList,
    ApplicationView,
    AreaChoice,
    CodeSent,
)
from services.api.self_reports.service import (
    applicant_view,
    application_closed,
    application_start,
    applications_of,
    own_application,
    submit_application,
)
from services.api.workflow_updates import run_update
from services.db.tables import SelfReport
from services.domain.form_fields import Text
from services.domain.personal_data import MobilePhone
from services.domain.self_reports.model import SelfReportForm
from services.messaging.sms import sms_sender
from services.messaging.wechat import WechatCodeRejected, WechatUnavailable, wechat_identity
from services.workflows.self_report import SelfReportWorkflow, self_report_workflow_id

router = APIRouter(prefix="/api/v1/self-service", tags=["self-service 农户一键申报"])


class PhoneNumber(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"phone": "13991234567"}]})

    phone: MobilePhone


class SignIn(PhoneNumber):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "13991234567", "code": "482913", "wechat_code": None}]}
    )

    code: Annotated[str, Text(10, min_length=1)] = Field(description="短信验证码")
    wechat_code: Annotated[str, Text(128, strip=False)] | None = Field(
        default=None, description="小程序 wx.login 得到的 code"
    )


@router.post("/sign-in/code", summary="获取登录验证码")
async def request_code(body: PhoneNumber, request: Request, resources: Resources, session: SessionDep) -> CodeSent:
    """Sends a 6-digit code by SMS. 429 with `Retry-After` when asked too often (per phone and per address)."""
    settings = resources.settings
    row, code = await issue_sign_in_code(session, settings, body.phone, client_address(request))
    await session.commit()
    await send_sign_in_code(settings, sms_sender(settings), row, code)
    return CodeSent(
        message="验证码已发送，请注意查收短信",
        expires_in=settings.sms_code_seconds,
        resend_after=settings.sms_resend_seconds,
    )


@router.post("/sign-in", summary="手机号验证码登录")
async def sign_in(body: SignIn, resources: Resources, session: SessionDep) -> ApplicantToken:
    """401 names what is wrong with the code: missing, wrong (with tries left), used, expired or locked."""
    openid = None
    if body.wechat_code:
        try:
            openid = await wechat_identity(resources.settings).openid_for(body.wechat_code)
        except WechatCodeRejected:
            raise ApiError(401, "wechat_code_invalid", "微信登录已失效，请重新打开小程序") from None
        except WechatUnavailable:
            raise ApiError(503, "wechat_unavailable", "暂时无法连接微信，请稍后再试") from None
    problem = await sign_in_code_problem(session, resources.settings, body.phone, body.code.strip())
    await session.commit()  # a wrong try counts
    if problem:
        raise problem
    applicant = await applicant_for(session, body.phone, openid)
    await session.commit()
    token, expires_at = issue_token(resources.settings, applicant.id, audience=APPLICANT)
    return ApplicantToken(access_token=token, expires_at=expires_at)


@router.get("/areas", summary="选择所在镇、村")
async def list_areas(
    session: SessionDep,
    parent: Annotated[str | None, Query(max_length=12, description="上级区划代码")] = None,
) -> list[AreaChoice]:
    return [AreaChoice(code=a.code, name=a.name, level=a.level) for a in await areas_under(session, parent, "top")]


@router.post("/applications", status_code=201, response_model=ApplicationView, summary="提交申报")
async def apply(
    form: SelfReportForm,
    request: Request,
    applicant: CurrentApplicant,
    resources: Resources,
    session: SessionDep,
    key: IdempotencyKey,
) -> JSONResponse:
    """409 `case_already_open` or `application_pending` says where the household's existing one stands."""

    async def produce() -> tuple[int, Any]:
        start = await application_start(session, applicant, form)
        await session.commit()  # hold no pooled connection while the workflow works
        state = await submit_application(resources.temporal, resources.settings.temporal_task_queue, start)
        row = await session.get(SelfReport, state.application_id)
        assert row is not None, "the workflow answers once the application is recorded"
        return 201, await applicant_view(session, row)

    return await answer_once(session, f"applicant:{applicant.id}", key, await fingerprint(request), produce)


@router.get("/applications", summary="我的申报")
async def my_applications(applicant: CurrentApplicant, session: SessionDep) -> ApplicationList:
    """The newest 50."""
    rows = await applications_of(session, applicant)
    return ApplicationList(items=[await applicant_view(session, row) for row in rows])


@router.get("/applications/{application_id}", summary="申报进度")
async def my_application(application_id: str, applicant: CurrentApplicant, session: SessionDep) -> ApplicationView:
    return await applicant_view(session, await own_application(session, applicant, application_id))


@router.post("/applications/{application_id}/withdrawal", summary="撤回申报（镇里受理前）")
async def withdraw(
    application_id: str, applicant: CurrentApplicant, resources: Resources, session: SessionDep
) -> ApplicationView:
    """409 `wrong_step` once the township is answering or has answered; 409 `application_closed` once it is over."""
    row = await own_application(session, applicant, application_id)
    await session.commit()  # hold no pooled connection while the workflow works
    handle = resources.temporal.get_workflow_handle(self_report_workflow_id(application_id), run_id=row.run_id)
    await run_update(
        handle, SelfReportWorkflow.withdraw, [applicant.id], f"withdraw:{application_id}", closed=application_closed()
    )
    await session.refresh(row)
    return await applicant_view(session, row)
