"""Households sign in with a phone number and a one-time SMS code: expiry, single use,
wrong codes, rate limits per phone and per client address, and tokens of their own kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import update
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.db.tables import SmsCode
from services.demo_case import VILLAGE_CADRE, CaseDriver
from services.settings import Settings
from tests.applicants import Household, SmsLog, mini, sms_log  # noqa: F401 (fixture)
from tests.conftest import api_for


async def _expire_codes(settings: Settings, phone: str) -> None:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(
            update(SmsCode).where(SmsCode.phone == phone).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await engine.dispose()


async def test_sign_in_with_the_code_from_the_development_log(mini: tuple[CaseDriver, SmsLog]) -> None:
    api, sms = mini
    household = Household(api.http, sms)
    sent = await household.request_code()
    assert sent.status_code == 200 and sent.json()["expires_in"] == 300
    [line] = [line for line in sms.lines if "验证码" in line and household.phone[-4:] in line]
    assert household.phone not in line, "the log shows the phone masked"
    assert f"{household.phone[:3]}****{household.phone[-4:]}" in line
    signed = await household.sign_in_with(sms.code_for(household.phone))
    assert signed.status_code == 200 and signed.json()["token_type"] == "bearer"
    assert datetime.fromisoformat(signed.json()["expires_at"]) > datetime.now(UTC) + timedelta(hours=23)
    mine = await household.get("/applications")
    assert mine.status_code == 200 and mine.json() == {"items": []}


async def test_a_code_works_once(mini: tuple[CaseDriver, SmsLog]) -> None:
    api, sms = mini
    household = await Household(api.http, sms).sign_in()
    again = await household.sign_in_with(sms.code_for(household.phone))
    assert again.status_code == 401
    assert again.json()["detail"] == {"code": "code_used", "message": "这个验证码已经用过了，请重新获取"}


async def test_an_expired_code_is_refused(mini: tuple[CaseDriver, SmsLog], settings: Settings) -> None:
    api, sms = mini
    household = Household(api.http, sms)
    await household.request_code()
    await _expire_codes(settings, household.phone)
    answer = await household.sign_in_with(sms.code_for(household.phone))
    assert answer.status_code == 401 and answer.json()["detail"]["code"] == "code_expired"
    assert answer.json()["detail"]["message"] == "验证码已过期，请重新获取"


async def test_wrong_codes_use_up_the_tries(mini: tuple[CaseDriver, SmsLog]) -> None:
    api, sms = mini
    household = Household(api.http, sms)
    missing = await household.sign_in_with("123456")
    assert missing.status_code == 401 and missing.json()["detail"]["message"] == "请先获取验证码"
    await household.request_code()
    right = sms.code_for(household.phone)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    messages = [(await household.sign_in_with(wrong)).json()["detail"]["message"] for _ in range(5)]
    assert messages[0] == "验证码不正确，还可以再试4次"
    assert messages[-1] == "验证码输错次数太多，请重新获取"
    locked = await household.sign_in_with(right)
    assert locked.status_code == 401 and locked.json()["detail"]["code"] == "code_locked", "guessing ends the code"
    assert household.token is None


async def test_codes_are_limited_per_phone(settings: Settings, temporal: WorkflowEnvironment) -> None:
    quick = settings.model_copy(update={"sms_resend_seconds": 0, "sms_codes_per_phone_hour": 3})
    with sms_log() as sms:
        async with api_for(settings, temporal.client, client_address="127.0.8.1") as api:
            household = Household(api.http, sms)
            assert (await household.request_code()).status_code == 200
            too_soon = await household.request_code()
            assert too_soon.status_code == 429 and too_soon.json()["detail"]["code"] == "too_many_requests"
            assert 55 <= int(too_soon.headers["Retry-After"]) <= 61
            assert too_soon.json()["detail"]["message"].startswith("验证码已发送，请")
        async with api_for(quick, temporal.client, client_address="127.0.8.2") as api:
            household.http = api.http
            assert [(await household.request_code()).status_code for _ in range(3)] == [200, 200, 429]
            assert len([t for t in sms.texts_to(household.phone) if "验证码" in t]) == 3
            # Only the newest code signs in.
            assert (await household.sign_in_with(sms.code_for(household.phone))).status_code == 200


async def test_codes_are_limited_per_client_address(settings: Settings, temporal: WorkflowEnvironment) -> None:
    strict = settings.model_copy(update={"sms_codes_per_address_hour": 3})
    with sms_log() as sms:
        async with api_for(strict, temporal.client, client_address="127.0.8.3") as api:
            statuses = [(await Household(api.http, sms).request_code()).status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
        async with api_for(strict, temporal.client, client_address="127.0.8.4") as elsewhere:
            assert (await Household(elsewhere.http, sms).request_code()).status_code == 200


async def test_household_and_staff_tokens_do_not_cross(
    mini: tuple[CaseDriver, SmsLog], driver: CaseDriver, settings: Settings
) -> None:
    api, sms = mini
    household = await Household(api.http, sms).sign_in()
    assert (await api.http.get("/api/v1/cases", headers=household.headers)).status_code == 401
    assert (await api.http.get("/api/v1/auth/me", headers=household.headers)).status_code == 401
    staff = await driver.headers(VILLAGE_CADRE)
    assert (await api.http.get("/api/v1/self-service/applications", headers=staff)).status_code == 401
    claims = jwt.decode(household.token, settings.jwt_secret, algorithms=["HS256"], audience="applicant")
    expired = jwt.encode(
        claims | {"exp": datetime.now(UTC) - timedelta(seconds=1)}, settings.jwt_secret, algorithm="HS256"
    )
    answer = await api.http.get("/api/v1/self-service/applications", headers={"Authorization": f"Bearer {expired}"})
    assert answer.status_code == 401 and answer.json()["detail"]["message"] == "登录已过期，请重新登录"


async def test_a_malformed_phone_is_explained(mini: tuple[CaseDriver, SmsLog]) -> None:
    api, _ = mini
    answer = await api.http.post("/api/v1/self-service/sign-in/code", json={"phone": "1234"})
    assert answer.status_code == 422
    assert answer.json()["detail"]["errors"] == [{"field": "phone", "message": "手机号应为11位数字，以1开头"}]
