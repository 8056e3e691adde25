"""Staff sign-in limits (等保 2.0): repeated failures lock the account name and the address, with
a delay that grows; the answer says in Chinese when to try again; every failure is audited.

Each test signs in from an address of its own, so the counts of one never reach another."""

from __future__ import annotations

import hashlib
import itertools
import random
from datetime import UTC, datetime, timedelta

import httpx
from temporalio.testing import WorkflowEnvironment

from services.demo_case import COUNTY_OFFICER, CaseDriver
from services.demo_data import DEMO_PASSWORD
from services.settings import Settings
from tests.conftest import api_for
from tests.departments.signed import query

_numbers = itertools.count(random.randrange(1000, 9000) * 100)


def _address() -> str:
    number = next(_numbers)
    return f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"


async def _new_cadre(driver: CaseDriver) -> str:
    username = f"test.lock{next(_numbers)}"
    body = {
        "username": username,
        "display_name": "东坑村 测试村干部",
        "role": "village_cadre",
        "area_code": "610824100201",
        "password": DEMO_PASSWORD,
    }
    assert (await driver.post("admin", "/api/v1/accounts", body)).status_code == 201
    return username


async def _login(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/api/v1/auth/login", json={"username": username, "password": password})


async def test_an_account_locks_after_repeated_failures_and_says_until_when(
    driver: CaseDriver, settings: Settings, temporal: WorkflowEnvironment
) -> None:
    username = await _new_cadre(driver)
    async with api_for(settings, temporal.client, client_address=_address()) as api:
        failures = [await _login(api.http, username, "wrong") for _ in range(settings.sign_in_failures_per_account)]
        # The right password now changes nothing: the account is locked, the password is not even checked.
        locked = await _login(api.http, username, DEMO_PASSWORD)
    assert [f.status_code for f in failures] == [401] * settings.sign_in_failures_per_account
    assert failures[0].json()["detail"] == {"code": "bad_credentials", "message": "用户名或密码不正确"}
    last = failures[-1].json()["detail"]
    assert last["code"] == "bad_credentials" and "该账号已暂时锁定" in last["message"]
    assert locked.status_code == 429 and locked.json()["detail"]["code"] == "sign_in_locked"
    detail = locked.json()["detail"]
    assert "请于" in detail["message"] and "北京时间" in detail["message"] and "后再试" in detail["message"]
    assert 0 < int(locked.headers["Retry-After"]) <= settings.sign_in_lock_minutes * 60 + 1
    assert datetime.fromisoformat(detail["locked_until"]) > datetime.now(UTC)

    # From another address too: the account name itself is locked.
    async with api_for(settings, temporal.client, client_address=_address()) as elsewhere:
        assert (await _login(elsewhere.http, username, DEMO_PASSWORD)).status_code == 429

    audit = (await driver.get(COUNTY_OFFICER, "/api/v1/audit", action="sign_in_failed", subject_id=username)).json()
    reasons = [e["data"]["reason"] for e in audit["items"]]
    assert reasons.count("bad_credentials") == settings.sign_in_failures_per_account
    assert reasons.count("locked") == 2
    assert {e["actor"] for e in audit["items"]} == {"system"} and all(
        e["data"]["client_address"] for e in audit["items"]
    )


async def test_the_lock_grows_with_every_failure_after_it(
    driver: CaseDriver, settings: Settings, temporal: WorkflowEnvironment
) -> None:
    username = await _new_cadre(driver)
    address = _address()
    async with api_for(settings, temporal.client, client_address=address) as api:
        for _ in range(settings.sign_in_failures_per_account):
            first = await _login(api.http, username, "wrong")
    first_lock = datetime.fromisoformat(first.json()["detail"]["locked_until"])
    await _expire_lock(settings, username)
    async with api_for(settings, temporal.client, client_address=address) as api:
        second = await _login(api.http, username, "wrong again")
    grown = datetime.fromisoformat(second.json()["detail"]["locked_until"]) - datetime.now(UTC)
    assert second.status_code == 401 and grown > timedelta(minutes=settings.sign_in_lock_minutes * 2 - 1)
    assert first_lock < datetime.fromisoformat(second.json()["detail"]["locked_until"])


async def _expire_lock(settings: Settings, username: str) -> None:
    """As if the name's lock had run out (its count of failures stays)."""
    key = "account:" + hashlib.sha256(username.encode()).hexdigest()
    await query(settings, "UPDATE sign_in_limits SET locked_until = now() WHERE key = :key", key=key)


async def test_an_address_locks_across_account_names(settings: Settings, temporal: WorkflowEnvironment) -> None:
    few = settings.model_copy(update={"sign_in_failures_per_address": 3})
    async with api_for(few, temporal.client, client_address=_address()) as api:
        answers = [await _login(api.http, f"nobody{next(_numbers)}", "guess") for _ in range(4)]
        # Even a real account with its right password waits from this address.
        real = await _login(api.http, COUNTY_OFFICER, DEMO_PASSWORD)
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert "该网络地址已暂时锁定" in answers[2].json()["detail"]["message"]
    assert real.status_code == 429 and "该网络地址已暂时锁定" in real.json()["detail"]["message"]


async def test_signing_in_resets_the_count_of_the_name(
    driver: CaseDriver, settings: Settings, temporal: WorkflowEnvironment
) -> None:
    username = await _new_cadre(driver)
    async with api_for(settings, temporal.client, client_address=_address()) as api:
        for _ in range(settings.sign_in_failures_per_account - 1):
            assert (await _login(api.http, username, "wrong")).status_code == 401
        assert (await _login(api.http, username, DEMO_PASSWORD)).status_code == 200
        again = [await _login(api.http, username, "wrong") for _ in range(settings.sign_in_failures_per_account - 1)]
    assert [a.json()["detail"]["message"] for a in again] == ["用户名或密码不正确"] * len(again)
