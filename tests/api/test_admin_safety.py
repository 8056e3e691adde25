"""Admin safety: making an account admin is audited, and where the county requires it waits for
a second admin; county settings are the county's own; an admin releases sign-in locks of their
own area. Each refusal is checked to change nothing.

The two-admin rule is tried in 榆阳区 (`other_county`), whose setting is put back at the end, so
the demo county's admins go on creating admins in other tests."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from services.demo_case import ADMIN, COUNTY_OFFICER, CaseDriver
from services.demo_data import DEMO_PASSWORD
from services.settings import Settings
from tests.conftest import api_for

_numbers = itertools.count(random.randrange(1000, 9000) * 100)
YUYANG, YUYANG_VILLAGE = "610802000000", "610802100201"


async def _new_account(driver: CaseDriver, admin: str, role: str, area_code: str) -> str:
    username = f"test.safety{next(_numbers)}"
    body = {"username": username, "display_name": "测试账号", "role": role, "area_code": area_code}
    answer = await driver.post(admin, "/api/v1/accounts", body | {"password": DEMO_PASSWORD})
    assert answer.status_code == 201, answer.text
    return username


async def _account(driver: CaseDriver, admin: str, username: str) -> dict[str, Any]:
    return (await driver.get(admin, f"/api/v1/accounts/{username}")).json()


async def _audit(driver: CaseDriver, officer: str, action: str, subject_id: str) -> list[dict[str, Any]]:
    answer = await driver.get(officer, "/api/v1/audit", action=action, subject_id=subject_id)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


@pytest_asyncio.fixture
async def yuyang(driver: CaseDriver, other_county: dict[str, str]) -> AsyncIterator[dict[str, str]]:
    yield other_county
    put_back = await driver.http.put(
        "/api/v1/county-settings",
        json={"second_admin_for_admin_grants": False, "reason": "测试"},
        headers=await driver.headers(other_county["admin"]),
    )
    assert put_back.status_code == 200, put_back.text


async def test_an_admin_grant_waits_for_a_second_admin_where_the_county_requires_it(
    driver: CaseDriver, yuyang: dict[str, str]
) -> None:
    admin, officer = yuyang["admin"], yuyang["county_officer"]
    # Without the requirement (the default) an admin makes an admin at once, and the audit says so.
    second = await _new_account(driver, admin, "admin", YUYANG)
    assert [e["data"] for e in await _audit(driver, officer, "grant_admin", second)] == [{"new_account": True}]

    # The setting: the county's own admin only.
    settings_path = "/api/v1/county-settings"
    assert (await driver.get(admin, settings_path)).json()["second_admin_for_admin_grants"] is False
    for refused in (officer, yuyang["village_cadre"]):
        answer = await driver.http.put(
            settings_path,
            json={"second_admin_for_admin_grants": True, "reason": "双人复核"},
            headers=await driver.headers(refused),
        )
        assert answer.status_code == 403 and answer.json()["detail"]["code"] == "forbidden", answer.text
    assert (await driver.get(officer, settings_path)).status_code == 403
    turned_on = await driver.http.put(
        settings_path,
        json={"second_admin_for_admin_grants": True, "reason": "双人复核"},
        headers=await driver.headers(admin),
    )
    assert turned_on.status_code == 200, turned_on.text
    assert turned_on.json() | {"updated_at": None} == {
        "county_code": YUYANG,
        "second_admin_for_admin_grants": True,
        "updated_by": admin,
        "updated_at": None,
    }
    change = (await _audit(driver, officer, "change_county_settings", YUYANG))[0]
    assert (change["actor"], change["data"], change["before"], change["after"]) == (
        admin,
        {"reason": "双人复核"},
        {"second_admin_for_admin_grants": False},
        {"second_admin_for_admin_grants": True},
    )
    # Another county's setting is untouched.
    assert (await driver.get(ADMIN, settings_path)).json()["second_admin_for_admin_grants"] is False

    # Now no admin is made in one step.
    cadre = await _new_account(driver, admin, "village_cadre", YUYANG_VILLAGE)
    as_admin = {"role": "admin", "area_code": YUYANG}
    direct = await driver.http.patch(f"/api/v1/accounts/{cadre}", json=as_admin, headers=await driver.headers(admin))
    assert direct.status_code == 409 and direct.json()["detail"]["code"] == "second_admin_required", direct.text
    assert "另一名管理员批准" in direct.json()["detail"]["message"]
    new_admin = {"username": f"test.safety{next(_numbers)}", "display_name": "测试", "password": DEMO_PASSWORD}
    created = await driver.post(admin, "/api/v1/accounts", new_admin | as_admin)
    assert created.status_code == 409 and created.json()["detail"]["code"] == "second_admin_required"
    assert (await _account(driver, admin, cadre))["role"] == "village_cadre"

    # The request waits; its requester may not approve it, nor may another county's admin.
    asked = await driver.post(admin, "/api/v1/admin-grants", {"username": cadre, "reason": "原管理员调岗"})
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "pending" and asked.json()["requested_by"] == admin
    again = await driver.post(second, "/api/v1/admin-grants", {"username": cadre, "reason": "重复申请"})
    assert again.status_code == 409 and again.json()["detail"]["code"] == "grant_pending"
    approval = f"/api/v1/admin-grants/{cadre}/approval"
    own = await driver.post(admin, approval, {})
    assert own.status_code == 403 and "另一名管理员" in own.json()["detail"]["message"], own.text
    assert (await driver.post(ADMIN, approval, {})).status_code == 404
    assert (await driver.post(officer, approval, {})).status_code == 403
    assert (await _account(driver, admin, cadre))["role"] == "village_cadre"
    pending = (await driver.get(second, "/api/v1/admin-grants", status="pending")).json()
    assert [g["username"] for g in pending] == [cadre]
    assert (await driver.get(ADMIN, "/api/v1/admin-grants", status="pending")).json() == []

    approved = await driver.post(second, approval, {"note": "同意"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("granted", second)
    account = await _account(driver, admin, cadre)
    assert (account["role"], account["area_code"]) == ("admin", YUYANG)
    grant = (await _audit(driver, officer, "grant_admin", cadre))[0]
    assert (grant["actor"], grant["data"]["requested_by"], grant["data"]["approved_by"]) == (second, admin, second)
    assert [e["actor"] for e in await _audit(driver, officer, "request_admin_grant", cadre)] == [admin]
    assert (await driver.post(second, approval, {})).json()["detail"]["code"] == "no_pending_grant"

    # A request another admin refuses (or its requester withdraws) leaves the account as it was.
    other = await _new_account(driver, admin, "village_cadre", YUYANG_VILLAGE)
    assert (await driver.post(admin, "/api/v1/admin-grants", {"username": other, "reason": "试用"})).status_code == 201
    refused = await driver.post(second, f"/api/v1/admin-grants/{other}/refusal", {"note": "未经研究确定"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused", refused.text
    assert (await _account(driver, admin, other))["role"] == "village_cadre"
    no_reason = await driver.post(second, f"/api/v1/admin-grants/{other}/refusal", {"note": ""})
    assert no_reason.status_code == 422 and no_reason.json()["detail"]["errors"][0]["field"] == "note"
    assert [e["data"]["note"] for e in await _audit(driver, officer, "refuse_admin_grant", other)] == ["未经研究确定"]


async def _sign_in(api: CaseDriver, username: str, password: str = DEMO_PASSWORD) -> int:
    answer = await api.http.post("/api/v1/auth/login", json={"username": username, "password": password})
    return answer.status_code


def _address() -> str:
    number = next(_numbers)
    return f"10.{200 + number // 65536 % 50}.{number // 256 % 256}.{number % 256}"


async def test_an_admin_releases_a_locked_account_of_their_area(
    driver: CaseDriver, settings: Settings, temporal: WorkflowEnvironment, other_county: dict[str, str]
) -> None:
    cadre = await _new_account(driver, ADMIN, "village_cadre", "610824100201")
    async with api_for(settings, temporal.client, client_address=_address()) as api:
        for _ in range(settings.sign_in_failures_per_account):
            await _sign_in(api, cadre, "wrong")
        assert await _sign_in(api, cadre) == 429

        release = "/api/v1/sign-in-locks/release"
        assert (await driver.post(COUNTY_OFFICER, release, {"username": cadre})).status_code == 403
        outside = await driver.post(other_county["admin"], release, {"username": cadre})
        assert outside.status_code == 404, outside.text
        assert await _sign_in(api, cadre) == 429  # the refusals released nothing

        released = await driver.post(ADMIN, release, {"username": cadre})
        assert released.status_code == 200, released.text
        assert released.json()["was_locked"] is True and released.json()["locked_until"]
        assert await _sign_in(api, cadre) == 200
    entry = (await _audit(driver, COUNTY_OFFICER, "release_sign_in_lock", cadre))[0]
    assert entry["actor"] == ADMIN and entry["data"]["was_locked"] is True


async def test_an_admin_releases_a_locked_address(
    driver: CaseDriver, settings: Settings, temporal: WorkflowEnvironment
) -> None:
    few = settings.model_copy(update={"sign_in_failures_per_address": 2})
    address = _address()
    async with api_for(few, temporal.client, client_address=address) as api:
        for n in range(2):
            await _sign_in(api, f"nobody{n}.{next(_numbers)}", "wrong")
        assert await _sign_in(api, COUNTY_OFFICER) == 429

        release = "/api/v1/sign-in-locks/release"
        refused = (
            ({"address": "10.1.2"}, "address"),
            ({"address": "fe80::1%\x00"}, "address"),  # a scope the database cannot keep
            ({"address": address, "username": ADMIN}, "body"),
        )
        for body, field in refused:
            bad = await driver.post(ADMIN, release, body)
            assert bad.status_code == 422 and bad.json()["detail"]["errors"][0]["field"] == field, bad.text
        assert (await driver.post(COUNTY_OFFICER, release, {"address": address})).status_code == 403
        assert await _sign_in(api, COUNTY_OFFICER) == 429

        released = await driver.post(ADMIN, release, {"address": address})
        assert released.status_code == 200 and released.json()["was_locked"] is True, released.text
        assert await _sign_in(api, COUNTY_OFFICER) == 200
    entry = (await _audit(driver, COUNTY_OFFICER, "release_sign_in_lock", address))[0]
    assert entry["actor"] == ADMIN
