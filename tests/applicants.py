"""Households on the mini-program, for tests: sign-in through the development SMS adapter
(whose log line carries the code), applications, and registered households to apply for."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from services.demo_case import DEMO_VILLAGE, VILLAGE_CADRE, CaseDriver
from services.domain.personal_data import mask_phone
from services.settings import Settings
from tests.conftest import api_for, new_household_body

T = TypeVar("T")
_serial = itertools.count(random.randrange(10_000))


def new_phone() -> str:
    """A mobile number no other test in this run uses (unique in its last four digits too)."""
    return f"139{random.randrange(10_000):04d}{next(_serial) % 10_000:04d}"


class SmsLog(logging.Handler):
    """Every SMS the development adapter 'sent', as logged (phones masked)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def texts_to(self, phone: str) -> list[str]:
        return [line.split("]: ", 1)[1] for line in self.lines if f" to {mask_phone(phone)} [" in line]

    def code_for(self, phone: str) -> str:
        codes = [m.group(1) for text in self.texts_to(phone) if (m := re.search(r"验证码是(\d{6})", text))]
        assert codes, f"no code was sent to {mask_phone(phone)}"
        return codes[-1]


@contextmanager
def sms_log() -> Iterator[SmsLog]:
    logger = logging.getLogger("services.sms")
    handler = SmsLog()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


_addresses = itertools.count(10)


@pytest_asyncio.fixture
async def mini(
    settings: Settings, temporal: WorkflowEnvironment, driver: CaseDriver
) -> AsyncIterator[tuple[CaseDriver, SmsLog]]:
    """The API as the mini-program reaches it, from a client address of its own, and the SMS log.
    (`driver` keeps the session's worker running.)"""
    with sms_log() as sms:
        async with api_for(settings, temporal.client, client_address=f"127.0.9.{next(_addresses)}") as api:
            yield api, sms


class Household:
    """One household member on the mini-program."""

    def __init__(self, http: httpx.AsyncClient, sms: SmsLog, phone: str | None = None) -> None:
        self.http = http
        self.sms = sms
        self.phone = phone or new_phone()
        self.token: str | None = None

    async def request_code(self) -> httpx.Response:
        return await self.http.post("/api/v1/self-service/sign-in/code", json={"phone": self.phone})

    async def sign_in_with(self, code: str, **extra: Any) -> httpx.Response:
        answer = await self.http.post("/api/v1/self-service/sign-in", json={"phone": self.phone, "code": code, **extra})
        if answer.status_code == 200:
            self.token = answer.json()["access_token"]
        return answer

    async def sign_in(self) -> Household:
        sent = await self.request_code()
        assert sent.status_code == 200, sent.text
        signed = await self.sign_in_with(self.sms.code_for(self.phone))
        assert signed.status_code == 200, signed.text
        return self

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return await self.http.post(f"/api/v1/self-service{path}", json=body, headers=self.headers | headers)

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(f"/api/v1/self-service{path}", headers=self.headers)

    async def apply(self, form: dict[str, Any]) -> dict[str, Any]:
        answer = await self.post("/applications", form)
        assert answer.status_code == 201, answer.text
        return answer.json()

    async def view(self, application_id: str) -> dict[str, Any]:
        answer = await self.get(f"/applications/{application_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()


def application_form(
    head_name: str, id_number: str, phone: str, village_code: str = DEMO_VILLAGE, **overrides: Any
) -> dict[str, Any]:
    return {
        "head_name": head_name,
        "id_number": id_number,
        "phone": phone,
        "village_code": village_code,
        "risk_types": ["illness"],
        "description": "老伴今年住院两次，自己花了三万多元医药费，家里没钱了",
        "consent": True,
    } | overrides


def unregistered_head() -> tuple[str, str]:
    """A head's name and valid ID number that no registered household holds."""
    head = new_household_body()["members"][0]
    return head["name"], head["id_number"]


async def registered_head(
    driver: CaseDriver, village_code: str = DEMO_VILLAGE, cadre: str = VILLAGE_CADRE
) -> tuple[str, str, str]:
    """Registers a household; returns its code, the head's name and ID number."""
    body = new_household_body(village_code)
    answer = await driver.post(cadre, "/api/v1/households", body)
    assert answer.status_code == 201, answer.text
    head = body["members"][0]
    return answer.json()["code"], head["name"], head["id_number"]


async def decide(
    driver: CaseDriver, who: str, application_id: str, decision: str = "accept", reason: str = ""
) -> httpx.Response:
    return await driver.post(
        who, f"/api/v1/self-reports/{application_id}/decision", {"decision": decision, "reason": reason}
    )


async def eventually(check: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 20) -> T:
    """Polls `check` until `done` holds for its answer (work that follows an answer in the background)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if done(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.1)


async def apply_signed_in(http: httpx.AsyncClient, sms: SmsLog, name: str, id_number: str) -> tuple[Household, str]:
    """A new phone signs in and applies for the head `name`; returns it and the application id."""
    household = await Household(http, sms).sign_in()
    applied = await household.apply(application_form(name, id_number, household.phone))
    return household, applied["application_id"]
