"""Household sign-in on the mini-program: a phone number and a one-time SMS code.

Codes are 6 digits, stored only as an HMAC keyed with the service secret, valid for
`SMS_CODE_SECONDS`, used once, and dead after `SMS_CODE_ATTEMPTS` wrong tries; only the newest
code of a phone counts. Requests are limited per phone (one per `SMS_RESEND_SECONDS`,
`SMS_CODES_PER_PHONE_HOUR` an hour) and per client address (`SMS_CODES_PER_ADDRESS_HOUR`),
counted in PostgreSQL under advisory locks, so the limits hold across API processes
without Redis. Behind a proxy, run uvicorn with --proxy-headers so the client address is real.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.deps import Resources, SessionDep
from services.api.errors import ApiError
from services.api.people.security import APPLICANT, subject_from_token
from services.db.tables import Applicant, SmsCode
from services.domain.self_reports.applicant_texts import sign_in_code_text
from services.messaging.sms import SmsFailed, SmsSender
from services.settings import Settings

_WINDOW = timedelta(hours=1)


def _too_many(message: str, retry_after: timedelta) -> ApiError:
    seconds = max(1, int(retry_after.total_seconds()) + 1)
    error = ApiError(429, "too_many_requests", message, retry_after=seconds)
    error.headers = {"Retry-After": str(seconds)}
    return error


def _code_hash(settings: Settings, phone: str, code: str) -> str:
    return hmac.new(settings.jwt_secret.encode(), f"sms-code:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


async def _lock(session: AsyncSession, name: str) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(name))))


async def issue_sign_in_code(
    session: AsyncSession, settings: Settings, phone: str, client_address: str
) -> tuple[SmsCode, str]:
    """A new code within the limits (the row and the code itself, for the SMS); 429 (with
    Retry-After) past a limit. The caller commits before sending it, so every code sent counts."""
    now = datetime.now(UTC)
    await _lock(session, f"sms-phone:{phone}")
    await _lock(session, f"sms-address:{client_address}")
    by_phone = (
        await session.scalars(
            select(col(SmsCode.created_at))
            .where(col(SmsCode.phone) == phone, col(SmsCode.created_at) > now - _WINDOW)
            .order_by(col(SmsCode.created_at).desc())
        )
    ).all()
    resend_at = by_phone[0] + timedelta(seconds=settings.sms_resend_seconds) if by_phone else now
    if resend_at > now:
        raise _too_many(f"验证码已发送，请{int((resend_at - now).total_seconds()) + 1}秒后再试", resend_at - now)
    if len(by_phone) >= settings.sms_codes_per_phone_hour:
        raise _too_many("这个手机号获取验证码太频繁了，请过一会儿再试", by_phone[-1] + _WINDOW - now)
    by_address = (
        await session.scalars(
            select(col(SmsCode.created_at))
            .where(col(SmsCode.client_address) == client_address, col(SmsCode.created_at) > now - _WINDOW)
            .order_by(col(SmsCode.created_at))
        )
    ).all()
    if len(by_address) >= settings.sms_codes_per_address_hour:
        raise _too_many("获取验证码太频繁了，请过一会儿再试", by_address[0] + _WINDOW - now)

    code = f"{secrets.randbelow(1_000_000):06d}"
    row = SmsCode(
        phone=phone,
        code_hash=_code_hash(settings, phone, code),
        client_address=client_address,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.sms_code_seconds),
        attempts=0,
    )
    session.add(row)
    # Rows older than the window count for nothing any more.
    await session.execute(
        delete(SmsCode).where(col(SmsCode.phone) == phone, col(SmsCode.created_at) < now - 2 * _WINDOW)
    )
    await session.flush()
    return row, code


async def send_sign_in_code(settings: Settings, sms: SmsSender, row: SmsCode, code: str) -> None:
    try:
        await sms.send(row.phone, sign_in_code_text(code, settings.sms_code_seconds // 60), message_id=f"code:{row.id}")
    except SmsFailed:
        raise ApiError(503, "sms_unavailable", "短信发送失败，请稍后再试") from None


async def sign_in_code_problem(session: AsyncSession, settings: Settings, phone: str, code: str) -> ApiError | None:
    """Uses up the phone's newest code if `code` matches it, or counts the wrong try; the 401 saying
    why it does not let the applicant in, None if it does. The caller commits either way."""
    now = datetime.now(UTC)
    newest = (
        await session.scalars(
            select(SmsCode)
            .where(col(SmsCode.phone) == phone)
            .order_by(col(SmsCode.created_at).desc(), col(SmsCode.id).desc())
            .limit(1)
            .with_for_update()
        )
    ).first()
    problem = None
    if newest is None:
        problem = ("code_missing", "请先获取验证码")
    elif newest.used_at is not None:
        problem = ("code_used", "这个验证码已经用过了，请重新获取")
    elif newest.expires_at <= now:
        problem = ("code_expired", "验证码已过期，请重新获取")
    elif newest.attempts >= settings.sms_code_attempts:
        problem = ("code_locked", "验证码输错次数太多，请重新获取")
    elif not hmac.compare_digest(newest.code_hash, _code_hash(settings, phone, code)):
        newest.attempts += 1
        left = settings.sms_code_attempts - newest.attempts
        problem = ("code_wrong", f"验证码不正确，还可以再试{left}次" if left else "验证码输错次数太多，请重新获取")
    else:
        newest.used_at = now
    return ApiError(401, *problem) if problem else None


async def applicant_for(session: AsyncSession, phone: str, openid: str | None) -> Applicant:
    """The applicant with this verified phone, created on first sign-in."""
    values = {"id": uuid.uuid4().hex, "phone": phone, "wechat_openid": openid, "last_signed_in_at": func.now()}
    new = insert(Applicant).values(values)
    upsert = new.on_conflict_do_update(
        index_elements=[col(Applicant.phone)],
        set_={
            "last_signed_in_at": func.now(),
            "wechat_openid": func.coalesce(new.excluded.wechat_openid, col(Applicant.wechat_openid)),
        },
    ).returning(col(Applicant.id))
    applicant_id = (await session.execute(upsert)).scalar_one()
    applicant = await session.get(Applicant, applicant_id)
    assert applicant is not None
    return applicant


_bearer = HTTPBearer(auto_error=False, description="POST /api/v1/self-service/sign-in 返回的 access_token")


async def current_applicant(
    resources: Resources,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Applicant:
    if credentials is None:
        raise ApiError(401, "not_signed_in", "请先登录")
    applicant_id = subject_from_token(resources.settings, credentials.credentials, audience=APPLICANT)
    applicant = await session.get(Applicant, applicant_id) if applicant_id else None
    if applicant is None:
        raise ApiError(401, "token_invalid", "登录已过期，请重新登录")
    return applicant


CurrentApplicant = Annotated[Applicant, Depends(current_applicant)]
